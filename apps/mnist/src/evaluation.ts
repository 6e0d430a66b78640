import type { Backend, BatchNorm, TensorHandle } from '@batchnorm/core';
import type { BatchSource } from './batches.js';
import type { Split } from './data.js';
import { forBackend, readValues, type Mlp } from './model.js';
import type { EvalRecord, PopulationMode } from './records.js';

/** Percentile by linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** The `count` training mini-batches exact population statistics average, uploaded one at a time. */
export function populationBatches<T extends TensorHandle>(backend: Backend<T>, source: BatchSource, count: number): Iterable<T> {
  return (function* () {
    for (let i = 0; i < count; i++) {
      source.fillPopulationBatch(i);
      const x = backend.upload(forBackend(backend, source.images), [source.batchSize, source.split.features]);
      try {
        yield x;
      } finally {
        backend.dispose(x);
      }
    }
  })();
}

interface TestPass {
  readonly accuracy: number;
  /** The probe unit's input for each test image. */
  readonly probe: Float64Array;
}

/**
 * Accuracy and the probe unit's input over the first `count` test images, once per set of BN
 * `layerSets` for inference (one empty set without BN), in chunks of 1,000 images.
 */
async function testPasses<T extends TensorHandle>(
  model: Mlp<T>,
  test: Split,
  count: number,
  probeUnit: number,
  layerSets: readonly (readonly BatchNorm<T>[])[],
): Promise<TestPass[]> {
  const b = model.backend;
  const features = test.features;
  const hidden = model.layerSizes[model.layerSizes.length - 2]!;
  const classes = model.layerSizes.at(-1)!;
  const passes = layerSets.map(() => ({ correct: 0, probe: new Float64Array(count) }));
  const chunk = 1000;
  for (let start = 0; start < count; start += chunk) {
    const rows = Math.min(chunk, count - start);
    const x = b.upload(forBackend(b, test.images.slice(start * features, (start + rows) * features)), [rows, features]);
    const outputs = model.inferEach(x, layerSets);
    b.dispose(x);
    for (const [i, { logits, lastSigmoidInput }] of outputs.entries()) {
      const reads = Promise.all([readValues(b, logits), readValues(b, lastSigmoidInput)]);
      b.dispose(logits);
      b.dispose(lastSigmoidInput);
      const [scores, inputs] = await reads;
      const pass = passes[i]!;
      for (let r = 0; r < rows; r++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (scores[r * classes + k]! > scores[r * classes + best]!) best = k;
        if (best === test.labels[start + r]) pass.correct += 1;
        pass.probe[start + r] = inputs[r * hidden + probeUnit]!;
      }
    }
  }
  return passes.map(({ correct, probe }) => ({ accuracy: correct / count, probe }));
}

/** What an evaluation needs besides the network. */
export interface EvaluationInput<T extends TensorHandle> {
  readonly test: Split;
  readonly testImages: number;
  readonly probeUnit: number;
  readonly population: PopulationMode;
  /** Training batches for exact population statistics (BN only). */
  readonly populationBatches: () => Iterable<T>;
}

/**
 * Test accuracy and probe percentiles of `model` in inference mode, at `step`. For BN it measures
 * both ways of getting population statistics (the configured one is the record's accuracy), so the
 * default can be judged.
 */
export async function evaluate<T extends TensorHandle>(
  model: Mlp<T>,
  input: EvaluationInput<T>,
): Promise<Pick<EvalRecord, 'testAccuracy' | 'percentiles' | 'testAccuracyByPopulation'>> {
  const passes = (layerSets: readonly (readonly BatchNorm<T>[])[]) =>
    testPasses(model, input.test, input.testImages, input.probeUnit, layerSets);
  let main: TestPass;
  let byPopulation: Record<PopulationMode, number> | undefined;
  if (model.variant === 'bn') {
    const exactLayers = await model.exactPopulationLayers(input.populationBatches());
    try {
      const [exact, moving] = (await passes([exactLayers, model.batchNorm])) as [TestPass, TestPass];
      main = input.population === 'exact' ? exact : moving;
      byPopulation = { exact: exact.accuracy, moving: moving.accuracy };
    } finally {
      for (const layer of exactLayers) layer.dispose();
    }
  } else {
    [main] = (await passes([[]])) as [TestPass];
  }
  const probe = main.probe.sort();
  return {
    testAccuracy: main.accuracy,
    percentiles: { p15: percentile(probe, 0.15), p50: percentile(probe, 0.5), p85: percentile(probe, 0.85) },
    ...(byPopulation === undefined ? {} : { testAccuracyByPopulation: byPopulation }),
  };
}
