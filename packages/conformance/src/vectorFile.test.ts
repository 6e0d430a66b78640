import { readFileSync } from 'node:fs';
import { LAYOUTS } from '@batchnorm/core';
import { describe, expect, it } from 'vitest';
import { generateVectorText, roundUpToThreeDigits, shippedCases, VECTORS_PATH } from './generateVectors.js';
import { parseVectorFile, serializeVectorFile, VectorFileError } from './vectorFile.js';

function pytorchLikeCase(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const size = 2 * 3 * 4 * 5;
  return {
    name: 'foo',
    op: 'forwardTraining',
    layout: 'NCHW',
    shape: [2, 3, 4, 5],
    epsilon: 1e-5,
    attrs: { momentum: 0.1, varianceCorrection: 'unbiased' },
    inputs: {
      x: Array.from({ length: size }, (_, i) => Math.sin(i)),
      gamma: [1, 1, 1],
      beta: [0, 0, 0],
      runningMean: [0, 0, 0],
      runningVar: [1, 1, 1],
    },
    expected: { y: new Array<number>(size).fill(0), mean: [0, 0, 0] },
    tolerance: { atol: 1e-4, rtol: 1e-3 },
    ...overrides,
  };
}

function fileWith(...cases: unknown[]): unknown {
  return { schema: 'batchnorm-vectors/1', cases };
}

/** The VectorFileError thrown by parsing `json`. */
function parseError(json: unknown): VectorFileError {
  try {
    parseVectorFile(json);
  } catch (error) {
    expect(error).toBeInstanceOf(VectorFileError);
    return error as VectorFileError;
  }
  throw new Error('expected parseVectorFile to throw');
}

describe('parseVectorFile', () => {
  it('accepts a well-formed file of the public schema', () => {
    const cases = parseVectorFile(fileWith(pytorchLikeCase(), pytorchLikeCase({ name: 'bar', op: 'forwardInference', attrs: undefined, expected: { y: new Array<number>(120).fill(1) } })));
    expect(cases.map((c) => c.name)).toEqual(['foo', 'bar']);
    expect(cases[0]!.inputs['x']).toBeInstanceOf(Float64Array);
    expect(cases[0]!.inputs['x']![1]).toBeCloseTo(Math.sin(1), 15);
    expect(cases[0]!.tolerance).toEqual({ atol: 1e-4, rtol: 1e-3 });
  });

  it('names the case (index and name) and the field of a wrong length', () => {
    const x = Array.from({ length: 119 }, () => 0);
    const good = pytorchLikeCase({ name: 'ok' });
    const error = parseError(fileWith(good, { ...good, name: 'a' }, { ...good, name: 'b' }, pytorchLikeCase({ inputs: { ...(good['inputs'] as object), x } })));
    expect(error.message).toBe('cases[3] "foo": inputs.x has 119 values, expected 120 for shape [2,3,4,5]');
    expect(error.caseIndex).toBe(3);
    expect(error.caseName).toBe('foo');
    expect(error.field).toBe('inputs.x');
  });

  it.each([
    ['schema', { schema: 'batchnorm-vectors/2', cases: [] }, /^schema must be "batchnorm-vectors\/1"/],
    ['cases', { schema: 'batchnorm-vectors/1', cases: {} }, /^cases must be an array/],
    ['op', fileWith(pytorchLikeCase({ op: 'forward' })), /^cases\[0\] "foo": op must be one of forwardTraining/],
    ['layout', fileWith(pytorchLikeCase({ layout: 'NCWH' })), /^cases\[0\] "foo": layout must be one of NC, NCL, NLC, NCHW, NHWC, NCDHW, NDHWC, got "NCWH"$/],
    ['rank', fileWith(pytorchLikeCase({ shape: [2, 3] })), /^cases\[0\] "foo": shape \[2,3\]: expected rank 4 for layout NCHW/],
    ['shape', fileWith(pytorchLikeCase({ shape: [2, 0, 4, 5] })), /^cases\[0\] "foo": shape must be a non-empty array of positive integers/],
    ['epsilon', fileWith(pytorchLikeCase({ epsilon: 0 })), /^cases\[0\] "foo": epsilon must be a finite number > 0, got 0/],
    ['momentum', fileWith(pytorchLikeCase({ attrs: { momentum: 2 }, expected: { runningMean: [0, 0, 0] } })), /^cases\[0\] "foo": attrs\.momentum must be a number in \[0, 1\]/],
    ['gamma length', fileWith(pytorchLikeCase({ inputs: { ...(pytorchLikeCase()['inputs'] as object), gamma: [1, 1] } })), /^cases\[0\] "foo": inputs\.gamma has 2 values, expected 3 \(C = 3 for shape \[2,3,4,5\] in NCHW\)/],
    ['missing input', fileWith(pytorchLikeCase({ op: 'backward', attrs: undefined, inputs: { x: new Array<number>(120).fill(0), gamma: [1, 1, 1] }, expected: { dx: new Array<number>(120).fill(0) } })), /^cases\[0\] "foo": inputs\.dy is missing \(backward needs x, gamma, dy\)/],
    ['unknown output', fileWith(pytorchLikeCase({ expected: { z: [1] } })), /^cases\[0\] "foo": expected\.z is not an output of forwardTraining/],
    ['unknown field', fileWith(pytorchLikeCase({ extra: 1 })), /^cases\[0\] "foo": extra is not a field of a case/],
    ['non-number', fileWith(pytorchLikeCase({ inputs: { ...(pytorchLikeCase()['inputs'] as object), beta: [0, 'zero', 0] } })), /^cases\[0\] "foo": inputs\.beta\[1\] must be a number/],
    ['tolerance', fileWith(pytorchLikeCase({ tolerance: { atol: -1, rtol: 0 } })), /^cases\[0\] "foo": tolerance\.atol must be a finite number ≥ 0/],
    ['duplicate', fileWith(pytorchLikeCase(), pytorchLikeCase()), /^cases\[1\] "foo": name is used by an earlier case/],
    ['kernel shapes', fileWith({ name: 'k', op: 'matMul', inputs: { a: [1, 2], b: [3] }, expected: { out: [1] } }), /^cases\[0\] "k": shapes must map each input of matMul/],
    ['matMul inner', fileWith({ name: 'k', op: 'matMul', shapes: { a: [1, 2], b: [3, 1] }, inputs: { a: [1, 2], b: [3, 4, 5] }, expected: { out: [1] } }), /^cases\[0\] "k": shapes\.b inner dimension 3 does not match a's 2/],
    ['nameless', fileWith({ op: 'forwardTraining' }), /^cases\[0\]: name must be a non-empty string/],
  ])('rejects a bad %s with the case and field named', (_label, json, message) => {
    expect(parseError(json).message).toMatch(message);
  });

  describe('layouts of any rank', () => {
    /** A forwardInference case in `layout` with N = 2, C = 3 and spatial axes 2, 1, 4 (as many as the rank has). */
    function caseIn(layout: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
      const spatial = [2, 1, 4].slice(0, layout.length - 2);
      const channelsLast = layout.length > 2 && layout.endsWith('C');
      const shape = channelsLast ? [2, ...spatial, 3] : [2, 3, ...spatial];
      const size = shape.reduce((a, b) => a * b, 1);
      return {
        name: `inference/${layout}`,
        op: 'forwardInference',
        layout,
        shape,
        epsilon: 1e-5,
        inputs: { x: new Array<number>(size).fill(1), gamma: [1, 1, 1], beta: [0, 0, 0], runningMean: [0, 0, 0], runningVar: [1, 1, 1] },
        expected: { y: new Array<number>(size).fill(1) },
        ...overrides,
      };
    }

    it('accepts every layout name of the contract, the shape in the layout\'s own order', () => {
      const cases = parseVectorFile(fileWith(...LAYOUTS.map((layout) => caseIn(layout))));
      expect(cases.map((c) => c.layout)).toEqual([...LAYOUTS]);
      expect(cases.find((c) => c.layout === 'NDHWC')!.shape).toEqual([2, 2, 1, 4, 3]);
      expect(cases.find((c) => c.layout === 'NCDHW')!.shape).toEqual([2, 3, 2, 1, 4]);
    });

    it.each([['NDHW'], ['NCWH'], ['NHCW'], ['ncl'], ['NCLHW']])('rejects the layout name %s, naming the case and the field', (layout) => {
      const error = parseError(fileWith(caseIn('NCL'), caseIn('NCL', { name: 'bad layout', layout })));
      expect(error.message).toBe(`cases[1] "bad layout": layout must be one of ${LAYOUTS.join(', ')}, got "${layout}"`);
      expect(error).toMatchObject({ caseIndex: 1, caseName: 'bad layout', field: 'layout' });
    });

    it.each([
      ['NCL', [2, 3, 2, 4], 'rank 3 for layout NCL ([N, C, L])'],
      ['NLC', [2, 3], 'rank 3 for layout NLC ([N, L, C])'],
      ['NCDHW', [2, 3, 2, 4], 'rank 5 for layout NCDHW ([N, C, D, H, W])'],
      ['NDHWC', [2, 2, 1, 4, 3, 1], 'rank 5 for layout NDHWC ([N, D, H, W, C])'],
    ])('rejects a %s shape of the wrong rank, naming the case and the field', (layout, shape, expected) => {
      const error = parseError(fileWith(caseIn(layout, { name: 'wrong rank', shape })));
      expect(error.message).toBe(`cases[0] "wrong rank": shape [${shape.join(',')}]: expected ${expected}`);
      expect(error).toMatchObject({ caseIndex: 0, caseName: 'wrong rank', field: 'shape' });
    });

    it('takes C from the layout: last for channels-last, second for channels-first', () => {
      // NDHWC [2, 2, 1, 4, 3]: C = 3, so a γ of 2 values (shape[1]) is wrong
      const error = parseError(fileWith(caseIn('NDHWC', { inputs: { ...(caseIn('NDHWC')['inputs'] as object), gamma: [1, 1] } })));
      expect(error.message).toBe('cases[0] "inference/NDHWC": inputs.gamma has 2 values, expected 3 (C = 3 for shape [2,2,1,4,3] in NDHWC)');
      expect(error.field).toBe('inputs.gamma');
    });
  });

  it('describes any value it rejects briefly: deep, cyclic or not JSON at all', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(parseError(fileWith(deep)).message).toBe('cases[0]: case must be an object, got [[[[…]]]]');
    expect(parseError(deep).message).toBe('a vector file must be a JSON object, got [[[[…]]]]');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    const relu = { name: 'k', op: 'relu', shapes: { x: [1] }, inputs: { x: cyclic }, expected: { out: [0] } };
    expect(parseError(fileWith(relu)).message).toBe('cases[0] "k": inputs.x must be an array of numbers, got {"a":1,"self":{"a":1,"self":{"a":1,"self":{"a":1,"self":…');
    expect(parseError(fileWith(pytorchLikeCase({ epsilon: 10n }))).message).toBe('cases[0] "foo": epsilon must be a finite number > 0, got 10n');
    expect(parseError(fileWith(pytorchLikeCase({ attrs: { momentum: [cyclic, 'a long string '.repeat(9)] } }))).message).toBe(
      'cases[0] "foo": attrs.momentum must be a number, string or boolean, got [{"a":1,"self":{"a":1,"self":{"a":1,"self":…}}},"a long s…',
    );
    expect(parseError({ schema: 'batchnorm-vectors/1', cases: () => 1 }).message).toBe('cases must be an array, got a function');
    expect(parseError(fileWith(pytorchLikeCase({ epsilon: Number.NaN }))).message).toBe('cases[0] "foo": epsilon must be a finite number > 0, got NaN');
  });

  it('carries where the problem is as an options object: case, field and the file\'s path', () => {
    const error = new VectorFileError('m', { caseIndex: 2, caseName: 'c', field: 'inputs.x', path: 'v.json' });
    expect(error).toMatchObject({ message: 'm', caseIndex: 2, caseName: 'c', field: 'inputs.x', path: 'v.json' });
    expect(Object.keys(new VectorFileError('m', { path: 'v.json' }))).not.toContain('caseIndex');
    const inFile = (() => {
      try {
        parseVectorFile(fileWith(pytorchLikeCase({ epsilon: -1 })), 'v.json');
      } catch (e) {
        return e as VectorFileError;
      }
      throw new Error('expected parseVectorFile to throw');
    })();
    expect(inFile).toMatchObject({ caseIndex: 0, caseName: 'foo', field: 'epsilon', path: 'v.json' });
    expect(inFile.message).toBe('v.json: cases[0] "foo": epsilon must be a finite number > 0, got -1');
    expect(parseError({ schema: 'batchnorm-vectors/1', cases: [], extra: 1 })).toMatchObject({
      message: 'extra is not a field of a vector file (schema, cases, description, generator)',
      field: 'extra',
    });
  });

  it('reads "NaN" and "Infinity" where JSON has no literal for them', () => {
    const [c] = parseVectorFile(
      fileWith({ name: 's', op: 'sigmoid', shapes: { x: [1, 3] }, inputs: { x: ['NaN', 'Infinity', '-Infinity'] }, expected: { out: ['NaN', 1, 0] } }),
    );
    expect(Array.from(c!.inputs['x']!)).toEqual([Number.NaN, Infinity, -Infinity]);
  });
});

describe('shipped vectors', () => {
  it('equal a fresh, deterministic generation (run generate-vectors after changing the grid)', () => {
    const fresh = generateVectorText();
    expect(generateVectorText()).toBe(fresh);
    expect(readFileSync(VECTORS_PATH, 'utf8') === fresh, 'vectors/conformance-vectors.json is stale: pnpm --filter @batchnorm/conformance generate-vectors').toBe(true);
  });

  it('stay small and cover every op and layout', () => {
    const cases = shippedCases();
    // seven layouts × six regimes × three ops of small shapes, plus the kernels: ~445 KB
    expect(readFileSync(VECTORS_PATH).length).toBeLessThan(512 * 1024);
    const ops = new Set(cases.map((c) => c.op));
    expect([...ops].sort()).toEqual(
      ['addBias', 'backward', 'forwardInference', 'forwardTraining', 'matMul', 'relu', 'reluBackward', 'runningAverage', 'sgdUpdate', 'sigmoid', 'sigmoidBackward', 'softmaxCrossEntropy', 'sumRows'].sort(),
    );
    expect(new Set(cases.map((c) => c.layout).filter((l) => l !== undefined))).toEqual(new Set(LAYOUTS));
    // every layout in every regime, including N = 1 with a spatial extent
    for (const layout of LAYOUTS) {
      const ofLayout = cases.filter((c) => c.layout === layout);
      for (const regime of ['unit', 'offset1e3', 'offset1e4', 'tinyVariance', 'constantFeature', 'mixed']) {
        expect(ofLayout.filter((c) => c.name.endsWith(`/${regime}`)).length, `${layout} ${regime}`).toBeGreaterThan(0);
      }
      if (layout !== 'NC') expect(ofLayout.some((c) => c.shape[0] === 1), `${layout} N = 1`).toBe(true);
    }
  });

  it('write tolerances rounded up to three digits: never tighter than the derived ones', () => {
    for (const v of [5.753989853818307e-6, 4.76837158203125e-7, 1, 0.00101, 123456, 9.999e-3]) {
      const r = roundUpToThreeDigits(v);
      expect(r).toBeGreaterThanOrEqual(v);
      expect(r).toBeLessThanOrEqual(v * 1.01);
      expect(Number(r.toPrecision(3))).toBe(r);
    }
    expect(roundUpToThreeDigits(0)).toBe(0);
  });

  it('read back exactly: inputs bit for bit, expected values to 10 digits', () => {
    const cases = shippedCases().slice(0, 40);
    const parsed = parseVectorFile(JSON.parse(serializeVectorFile(cases)));
    for (const [i, c] of cases.entries()) {
      const back = parsed[i]!;
      expect(back.name).toBe(c.name);
      for (const [key, values] of Object.entries(c.inputs)) expect(Array.from(back.inputs[key]!)).toEqual(Array.from(values));
      for (const [key, values] of Object.entries(c.expected)) {
        values.forEach((v, j) => expect(Math.abs(back.expected[key]![j]! - v)).toBeLessThanOrEqual(Math.abs(v) * 1e-9));
      }
    }
  });
});
