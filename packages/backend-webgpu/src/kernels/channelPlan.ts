import type { Geometry } from '@batchnorm/core';
import type { KernelContext } from '../context.js';
import type { Binding, Params } from '../dispatch.js';

/** Values each invocation sums before the workgroup combines them (when the grid allows). */
const VALUES_PER_INVOCATION = 16;
/** Most chunks per feature: each second-pass workgroup re-adds all of its feature's partials. */
const MAX_PARTS = 64;

/**
 * How the per-feature kernels split the work: feature `c`'s `m` values are cut into `parts`
 * chunks of `chunk` values, one workgroup each (workgroup `c·parts + j` takes chunk `j`). The
 * first pass writes one partial per workgroup; the second pass has the same workgroups, each adds
 * its feature's partials in the same order (so they agree to the bit) and then sweeps its chunk.
 */
export interface ChannelPlan {
  readonly channels: number;
  /** `∏spatial` for channels-first layouts, 1 for channels-last ones (see `CHANNEL_PARAMS`). */
  readonly inner: number;
  readonly m: number;
  readonly chunk: number;
  readonly parts: number;
  readonly workgroups: number;
  /** A sweep of the workgroup advances `stepRows` rows of `inner` values and `stepRest` values. */
  readonly stepRows: number;
  readonly stepRest: number;
}

export function channelPlan(g: Geometry, workgroupSize: number): ChannelPlan {
  const inner = g.channelsLast ? 1 : g.spatial;
  let chunk = workgroupSize * VALUES_PER_INVOCATION;
  let parts = Math.ceil(g.m / chunk);
  if (parts > MAX_PARTS) {
    // a whole number of sweeps of the workgroup, and at most MAX_PARTS chunks
    chunk = Math.ceil(g.m / (MAX_PARTS * workgroupSize)) * workgroupSize;
    parts = Math.ceil(g.m / chunk);
  }
  return {
    channels: g.c,
    inner,
    m: g.m,
    chunk,
    parts,
    workgroups: g.c * parts,
    stepRows: Math.floor(workgroupSize / inner),
    stepRest: workgroupSize % inner,
  };
}

/** The `Params` struct of `CHANNEL_PARAMS`. */
export function channelParams(plan: ChannelPlan, epsilon = 0): Params {
  return [
    ['u32', plan.channels],
    ['u32', plan.inner],
    ['u32', plan.m],
    ['u32', plan.chunk],
    ['u32', plan.parts],
    ['u32', plan.stepRows],
    ['u32', plan.stepRest],
    ['f32', epsilon],
  ];
}

/** A scratch buffer for the first pass's partial sums: a `vec2f` per workgroup. */
export function partialsFor(ctx: KernelContext, plan: ChannelPlan): Binding {
  const bytes = plan.workgroups * 8;
  return { buffer: ctx.scratch(bytes), bytes };
}
