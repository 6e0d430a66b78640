import type { Shader, ShaderConfig } from './dispatch.js';

/**
 * WGSL pieces the kernels share: the declarations of a shader's buffers, the workgroup sum and the
 * entry point of a shader that reduces (`shaderSource`), and a careful `exp`.
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
function directives(config: ShaderConfig): string {
  return config.subgroups ? 'enable subgroups;\nrequires subgroup_id;\n' : '';
}

/** Entry-point parameters a reducing shader declares (besides its own). */
function laneParams(config: ShaderConfig): string {
  const base = '@builtin(local_invocation_index) li: u32';
  return config.subgroups
    ? `${base}, @builtin(subgroup_id) sgId: u32, @builtin(num_subgroups) sgCount: u32, ` +
        '@builtin(subgroup_invocation_id) sgLane: u32, @builtin(subgroup_size) sgSize: u32'
    : base;
}

/** The arguments of `workgroupSum` after the value. */
function laneArgs(config: ShaderConfig): string {
  return config.subgroups ? 'li, sgId, sgCount, sgLane, sgSize' : 'li';
}

/**
 * Declares `fn workgroupSum(v: T, lanes…) -> T`: the sum of `v` over the workgroup, returned to
 * every invocation. Call it in uniform control flow (it has barriers), with every invocation.
 */
function workgroupSum(type: 'f32' | 'vec2f', config: ShaderConfig): string {
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

/** A storage buffer of a shader: an `array<element>`, read-only unless `write`. */
export interface StorageBuffer {
  readonly name: string;
  readonly element: 'f32' | 'vec2f' | 'vec4f';
  readonly write: boolean;
}

export function read(name: string, element: StorageBuffer['element'] = 'f32'): StorageBuffer {
  return { name, element, write: false };
}

export function written(name: string, element: StorageBuffer['element'] = 'f32'): StorageBuffer {
  return { name, element, write: true };
}

/**
 * The bindings of a shader in the order `KernelContext.run` binds a `Dispatch`: the `Params` uniform
 * at 0 when there is a `params` struct, then the storage buffers.
 */
export function bindings(params: string | undefined, storage: readonly StorageBuffer[]): string {
  const lines = params === undefined ? [] : [params, '@group(0) @binding(0) var<uniform> p: Params;'];
  const first = lines.length === 0 ? 0 : 1;
  storage.forEach(({ name, element, write }, k) => {
    lines.push(`@group(0) @binding(${first + k}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<${element}>;`);
  });
  return lines.join('\n');
}

/** `struct Params` of 32-bit fields, `'rows: u32'` each. */
export function paramsStruct(...fields: readonly string[]): string {
  return `struct Params {\n${fields.map((f) => `  ${f},\n`).join('')}}`;
}

/** What a shader that works per workgroup is made of (see `shaderSource`). */
export interface ShaderSpec {
  readonly label: string;
  /** The `Params` struct (and functions of `p`), bound as a uniform at 0. */
  readonly params?: string;
  readonly storage: readonly StorageBuffer[];
  /** More WGSL declarations: functions, constants. */
  readonly helpers?: string;
  /** What the workgroup sums, when it does: `sum(v)` in `body` is then the WGSL of that sum. */
  readonly sums?: 'f32' | 'vec2f';
  /**
   * Many workgroups, numbered `wid` (a 1-d count laid out in two dimensions by `gridOf`), or
   * one.
   */
  readonly grid: boolean;
  /** The statements of `main`; `li` is the invocation's index in its workgroup. */
  readonly body: (workgroupSize: number, sum: (value: string) => string) => string;
}

/**
 * A shader whose invocations share their workgroup's work: the bindings, the workgroup sum of
 * the device's kind (subgroups or the tree) when it `sums`, and `main` with the lanes it needs.
 */
export function shaderSource(spec: ShaderSpec): Shader {
  return {
    label: spec.label,
    source: (config) => {
      const lanes = spec.sums === undefined ? { ...config, subgroups: false } : config;
      const grid = spec.grid ? '@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, ' : '';
      const sum = (value: string): string => `workgroupSum(${value}, ${laneArgs(lanes)})`;
      return /* wgsl */ `
${directives(lanes)}
${bindings(spec.params, spec.storage)}
${spec.helpers ?? ''}
${spec.sums === undefined ? '' : workgroupSum(spec.sums, config)}
@compute @workgroup_size(${config.workgroupSize})
fn main(${grid}${laneParams(lanes)}) {
${spec.grid ? '  let wid = wg.x + wg.y * nwg.x;\n' : ''}${spec.body(config.workgroupSize, sum)}
}
`;
    },
  };
}

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
