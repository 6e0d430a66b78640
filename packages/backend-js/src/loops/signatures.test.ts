import { describe, expect, expectTypeOf, it } from 'vitest';
import { LOOP_PARAMETERS, LOOPS, ROW_ARGUMENT, type LoopArgs } from './index.js';

/**
 * A function's parameter names, from its source text (what the worker threads run); a leading
 * underscore (a parameter only the SIMD twin uses) does not count.
 */
function parameterNames(f: (...args: never[]) => void): string[] {
  const source = f.toString();
  return source
    .slice(source.indexOf('(') + 1, source.indexOf(')'))
    .split(',')
    .map((p) => p.trim().replace(/^_/, ''))
    .filter((p) => p !== '');
}

describe('LOOP_PARAMETERS, the one table of the loops’ signatures', () => {
  it('names every loop, and each loop takes the table’s parameters in the table’s order', () => {
    expect(Object.keys(LOOP_PARAMETERS)).toEqual(Object.keys(LOOPS));
    for (const [name, f] of Object.entries(LOOPS)) {
      const table = LOOP_PARAMETERS[name as keyof typeof LOOP_PARAMETERS].map((p) => p.split(':')[0]);
      expect({ name, parameters: parameterNames(f) }).toEqual({ name, parameters: table });
    }
  });

  it('types each loop’s arguments exactly (an array type or a count that differs is a type error)', () => {
    expectTypeOf<Parameters<typeof LOOPS.shiftedSums>>().toEqualTypeOf<LoopArgs<'shiftedSums'>>();
    expectTypeOf<Parameters<typeof LOOPS.affine>>().toEqualTypeOf<LoopArgs<'affine'>>();
    expectTypeOf<Parameters<typeof LOOPS.backwardSums>>().toEqualTypeOf<LoopArgs<'backwardSums'>>();
    expectTypeOf<Parameters<typeof LOOPS.backwardApply>>().toEqualTypeOf<LoopArgs<'backwardApply'>>();
    expectTypeOf<Parameters<typeof LOOPS.matMulPanels>>().toEqualTypeOf<LoopArgs<'matMulPanels'>>();
    expectTypeOf<Parameters<typeof LOOPS.matMulDots>>().toEqualTypeOf<LoopArgs<'matMulDots'>>();
    expectTypeOf<LoopArgs<'matMulPanels'>[0]>().toEqualTypeOf<Float32Array | Float64Array>();
  });

  it('gives the thread team each loop’s row range: r0, then r1 right after it', () => {
    expect(ROW_ARGUMENT).toEqual({ shiftedSums: 3, affine: 4, backwardSums: 4, backwardApply: 5, matMulPanels: 8, matMulDots: 5, sigmoid: 2, sgdUpdate: 3 });
    for (const [name, at] of Object.entries(ROW_ARGUMENT)) {
      const params = LOOP_PARAMETERS[name as keyof typeof LOOP_PARAMETERS];
      expect([name, params[at], params[at + 1]]).toEqual([name, 'r0', 'r1']);
    }
  });
});
