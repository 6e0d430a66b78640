import type { ShaderConfig } from './context.js';

/**
 * WGSL pieces the kernels share: the directives, the entry-point lanes and the workgroup sum.
 *
 * The workgroup sum has two implementations, chosen per device:
 * - `subgroupAdd` per subgroup, the subgroups' sums in workgroup memory (numbered by
 *   `@builtin(subgroup_id)`), then subgroup 0 adds them (each lane a fixed stride of them) and
 *   `subgroupAdd` once more;
 * - otherwise a shared-memory tree: `log₂(workgroup size)` halving steps with barriers.
 * Both add the same values in an order fixed by the code and the device, with no atomics, so a
 * result is bit-identical from run to run (on one device and configuration).
 */

/** Directives at the top of a shader that reduces. */
export function directives(config: ShaderConfig): string {
  return config.subgroups ? 'enable subgroups;\nrequires subgroup_id;\n' : '';
}

/** Entry-point parameters a reducing shader declares (besides its own). */
export function laneParams(config: ShaderConfig): string {
  const base = '@builtin(local_invocation_index) li: u32';
  return config.subgroups
    ? `${base}, @builtin(subgroup_id) sgId: u32, @builtin(num_subgroups) sgCount: u32, ` +
        '@builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32'
    : base;
}

/** The arguments of `workgroupSum` after the value. */
export function laneArgs(config: ShaderConfig): string {
  return config.subgroups ? 'li, sgId, sgCount, sgLane, sgSize' : 'li';
}

/**
 * Declares `fn workgroupSum(v: T, lanes…) -> T`: the sum of `v` over the workgroup, returned to
 * every invocation. Call it in uniform control flow (it has barriers), with every invocation.
 */
export function workgroupSum(type: 'f32' | 'vec2f', config: ShaderConfig): string {
  const wg = config.workgroupSize;
  if (config.subgroups) {
    return /* wgsl */ `
var<workgroup> wgPartial: array<${type}, ${wg}>;
var<workgroup> wgTotal: ${type};

fn workgroupSum(v: ${type}, li: u32, sgId: u32, sgCount: u32, sgLane: u32, sgSize: u32) -> ${type} {
  let own = subgroupAdd(v);
  if (sgLane == 0u) {
    wgPartial[sgId] = own;
  }
  workgroupBarrier();
  var t = ${type}(0.0);
  if (sgId == 0u) {
    for (var k = sgLane; k < sgCount; k += sgSize) {
      t += wgPartial[k];
    }
  }
  // every invocation calls it (uniform control flow); only subgroup 0's result is kept
  let total = subgroupAdd(t);
  if (sgId == 0u && sgLane == 0u) {
    wgTotal = total;
  }
  workgroupBarrier();
  return wgTotal;
}
`;
  }
  return /* wgsl */ `
var<workgroup> wgPartial: array<${type}, ${wg}>;

fn workgroupSum(v: ${type}, li: u32) -> ${type} {
  wgPartial[li] = v;
  workgroupBarrier();
  for (var step = ${wg / 2}u; step > 0u; step >>= 1u) {
    if (li < step) {
      wgPartial[li] += wgPartial[li + step];
    }
    workgroupBarrier();
  }
  let total = wgPartial[0];
  // everyone has read the total before anyone writes wgPartial again
  workgroupBarrier();
  return total;
}
`;
}

/**
 * The parameters of the per-feature kernels and a cursor over feature `c`'s values. A batch-norm
 * tensor is `[outer, C, inner]` in memory: channels-first layouts have `inner = ∏spatial` (and
 * `outer = N`), channels-last layouts `inner = 1` (and `outer = N·∏spatial`); feature `c`'s value
 * `t` (0 ≤ t < m) is `(o, c, i)` with `o = ⌊t/inner⌋`, `i = t mod inner`. An invocation divides
 * once, at its first value, then steps by the workgroup size with `stepRows = ⌊WG/inner⌋`,
 * `stepRest = WG mod inner` and a carry: integer division is slow on GPUs (and scalarized on
 * llvmpipe), and it would run per element.
 */
export const CHANNEL_PARAMS = /* wgsl */ `
struct Params {
  channels: u32,
  inner: u32,
  m: u32,
  chunk: u32,
  parts: u32,
  stepRows: u32,
  stepRest: u32,
  epsilon: f32,
}

struct Cursor {
  o: u32,
  i: u32,
}

fn cursorAt(t: u32) -> Cursor {
  let o = t / p.inner;
  return Cursor(o, t - o * p.inner);
}

fn advance(k: Cursor) -> Cursor {
  var next = Cursor(k.o + p.stepRows, k.i + p.stepRest);
  if (next.i >= p.inner) {
    next.i -= p.inner;
    next.o += 1u;
  }
  return next;
}

fn indexOf(c: u32, k: Cursor) -> u32 {
  return (k.o * p.channels + c) * p.inner + k.i;
}
`;

/** The flat workgroup number of a 1-d grid laid out in two dimensions. */
export const WORKGROUP_NUMBER = 'let wid = wg.x + wg.y * nwg.x;';
export const WORKGROUP_PARAMS = '@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u';

/**
 * `fn expAccurate(x: f32) -> f32`: `e^x` to about 2 ulp on every device, from `+ − ×` (correctly
 * rounded in WGSL) and `ldexp` (exact). WGSL lets the builtin `exp` err by `3 + 2·|x|` ulp, and a
 * GPU's `exp2(x·log₂e)` does: the rounding of `x·log₂e` alone costs about `|x|·ln2` ulp (20 ulp
 * at x = −30). Here `x = n·ln2 + r` with `n` an integer and `|r| ≤ ln2/2`, `n·ln2` in two parts
 * (Cody–Waite) so `r` is nearly exact, and `e^r` is Cephes' degree-7 polynomial (`expf`).
 */
export const EXP_ACCURATE = /* wgsl */ `
fn expAccurate(x: f32) -> f32 {
  // below ln(2⁻¹⁵⁰) e^x is 0 in float32; the clamp keeps n a small integer
  let v = clamp(x, -104.0, 89.0);
  let n = round(v * 1.44269504088896341);
  // ln2 = 0.693359375 − 2.12194440e-4: n·0.693359375 is exact for |n| < 2¹⁵
  let r = (v - n * 0.693359375) - n * -2.12194440e-4;
  let z = r * r;
  let poly = ((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r
    + 1.6666665459e-1) * r + 5.0000001201e-1;
  return ldexp(poly * z + r + 1.0, i32(n));
}
`;
