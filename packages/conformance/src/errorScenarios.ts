import { isChannelsLast, LAYOUTS, layoutOf, layoutRank, type BatchNormState, type Layout } from '@batchnorm/core';
import { handleScenarios } from './handleScenarios.js';
import { C, ramp, shapeIn, size, trainingShape, type ErrorScenario } from './scenario.js';

function withState(patch: (s: BatchNormState) => unknown): ErrorScenario['act'] {
  return async (layer) => layer.load(patch(await layer.state()) as BatchNormState);
}

/** Every bad input of the core issue, through the layer. */
export function errorScenarios(): ErrorScenario[] {
  const scenarios: ErrorScenario[] = [];
  const layer = (name: string, act: ErrorScenario['act'], layout: Layout = 'NC'): void => {
    scenarios.push({ name: `errors/${name}`, layout, act });
  };
  const ctor = (name: string, construct: ErrorScenario['construct']): void => {
    scenarios.push({ name: `errors/${name}`, layout: 'NC', construct });
  };
  ctor('constructor/unknownLayout', (c) => ({ numFeatures: c, layout: 'NCWH' as Layout }));
  ctor('constructor/numFeatures0', () => ({ numFeatures: 0 }));
  for (const epsilon of [0, -1e-5, Number.NaN, Infinity]) ctor(`constructor/epsilon${epsilon}`, (c) => ({ numFeatures: c, epsilon }));
  for (const momentum of [-0.1, 1.5, Number.NaN]) ctor(`constructor/momentum${momentum}`, (c) => ({ numFeatures: c, momentum }));
  ctor('constructor/varianceCorrection', (c) => ({ numFeatures: c, varianceCorrection: 'population' as 'biased' }));
  ctor('constructor/gammaLength', (c) => ({ numFeatures: c, gamma: new Array<number>(c + 1).fill(1) }));
  ctor('constructor/betaLength', (c) => ({ numFeatures: c, beta: new Array<number>(c - 1).fill(0) }));
  ctor('constructor/gammaNaN', (c) => ({ numFeatures: c, gamma: [1, Number.NaN, 1].slice(0, c) }));

  // per layout, with shapes derived from its rank and order (no layout is special-cased)
  for (const layout of LAYOUTS) {
    const shape = trainingShape(layout);
    const n = shape[0]!;
    const wrongC = shapeIn(layout, n, C + 1);
    layer(`forward/${layout}/wrongFeatureCount`, (l, up) => l.forward(up(ramp(size(wrongC)), wrongC)), layout);
    // the neighbouring rank in the same order: one spatial axis fewer (NC: one more)
    const rank = layoutRank(layout);
    const wrongRank = shapeIn(layoutOf(rank === 2 ? 3 : rank - 1, isChannelsLast(layout)), 2, C);
    layer(`forward/${layout}/wrongRank`, (l, up) => l.forward(up(ramp(size(wrongRank)), wrongRank)), layout);
    const single = shapeIn(layout, 1, C, 1);
    layer(`forward/${layout}/m1InTraining`, (l, up) => l.forward(up(ramp(C), single)), layout);
    layer(
      `forward/${layout}/NaNInBatch`,
      (l, up) => {
        const values = ramp(size(shape));
        values[1] = Number.NaN;
        return l.forward(up(values, shape));
      },
      layout,
    );
    layer(
      `forward/${layout}/InfinityInBatch`,
      (l, up) => {
        const values = ramp(size(shape));
        values[0] = Infinity;
        return l.forward(up(values, shape));
      },
      layout,
    );
    layer(`backward/${layout}/dyWrongShape`, (l, up) => l.backward(up(ramp(size(wrongC)), wrongC)), layout);
  }
  layer('backward/afterEval', (l, up) => {
    l.eval();
    const shape = trainingShape('NC');
    return l.backward(up(ramp(size(shape)), shape));
  });
  layer('sgdStep/learningRateNaN', (l) => l.sgdStep(Number.NaN));
  layer('load/notAnObject', (l) => l.load(null as unknown as BatchNormState));
  layer('load/wrongSchema', withState((s) => ({ ...s, schema: 'batchnorm-state/0' })));
  layer('load/numFeatures', withState((s) => ({ ...s, numFeatures: C + 1 })));
  layer('load/layout', withState((s) => ({ ...s, layout: 'NCHW' })));
  layer('load/epsilon0', withState((s) => ({ ...s, epsilon: 0 })));
  layer('load/momentum2', withState((s) => ({ ...s, momentum: 2 })));
  layer('load/gammaLength', withState((s) => ({ ...s, gamma: s.gamma.slice(1) })));
  layer('load/betaNaN', withState((s) => ({ ...s, beta: s.beta.map(() => Number.NaN) })));
  layer('load/runningVarNegative', withState((s) => ({ ...s, runningVar: s.runningVar.map((v, i) => (i === 1 ? -1 : v)) })));
  layer('load/runningMeanLength', withState((s) => ({ ...s, runningMean: [...s.runningMean, 0] })));
  layer('load/numBatchesTracked', withState((s) => ({ ...s, numBatchesTracked: -1 })));
  scenarios.push(...handleScenarios());
  return scenarios;
}
