import { describe, expect, it } from 'vitest';
import { SHADERS } from './assemble.js';
import type { ShaderConfig } from './dispatch.js';

/**
 * The generated WGSL, without a device: every reducing shader takes its workgroup sum from the one
 * generator, in the device's kind (the subgroup path compiles only where the adapter has
 * subgroups, in the browser test; Dawn on OpenGL here runs the tree).
 */
const TREE: ShaderConfig = { workgroupSize: 64, subgroups: false, tile: 16 };
const SUBGROUPS: ShaderConfig = { ...TREE, subgroups: true };
const REDUCING = [
  'batchNormForwardTraining/statistics',
  'batchNormForwardTraining/normalize',
  'batchNormBackward/sums',
  'batchNormBackward/apply',
  'sumRows',
  'softmaxCrossEntropy',
];

describe.each(SHADERS.map((s) => [s.label, s] as const))('%s', (label, shader) => {
  const reduces = REDUCING.includes(label);

  it(`${reduces ? 'sums with subgroupAdd where the device has subgroups' : 'needs no subgroups'}`, () => {
    const code = shader.source(SUBGROUPS);
    expect(code.includes('enable subgroups;')).toBe(reduces);
    expect(code.includes('subgroupAdd(')).toBe(reduces);
    expect(code.match(/fn workgroupSum\(/g)?.length ?? 0).toBe(reduces ? 1 : 0);
  });

  it(`${reduces ? 'sums with the workgroup-memory tree' : 'has no workgroup sum'} elsewhere`, () => {
    const code = shader.source(TREE);
    expect(code).not.toMatch(/subgroup/);
    expect(code.includes('for (var step = 32u; step > 0u; step >>= 1u)')).toBe(reduces);
  });

  it('numbers its bindings 0, 1, 2, … in declaration order', () => {
    const numbers = [...shader.source(TREE).matchAll(/@binding\((\d+)\)/g)].map((m) => Number(m[1]));
    expect(numbers).toEqual(numbers.map((_, k) => k));
  });
});
