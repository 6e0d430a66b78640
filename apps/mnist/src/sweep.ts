#!/usr/bin/env node
/**
 * The learning-rate sweep behind the CLI's defaults: short runs of each variant at several
 * rates, same seed and data order. Writes sweep.json and sweep.md (a table) into --out.
 *
 *   node apps/mnist/dist/sweep.js --backend js --steps 3000 --lrs 0.1,0.5,1,2,5,10 --out DIR
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cheapFiniteCheck, openBackend } from './backends.js';
import { loadDataset } from './data.js';
import { writeFileAtomic } from './files.js';
import { defaultRunsDirectory } from './runDirectory.js';
import type { Variant } from './model.js';
import { DEFAULTS } from './options.js';
import { Experiment, type RunRecord } from './trainer.js';

interface SweepRow {
  readonly variant: Variant;
  readonly learningRate: number;
  readonly accuracies: { step: number; testAccuracy: number }[];
  readonly finalLoss: number | null;
  readonly diverged: RunRecord['diverged'];
  readonly msPerStep: number | null;
}

function table(rows: readonly SweepRow[], steps: readonly number[]): string {
  const head = `| variant | lr | ${steps.map((s) => `test acc. @${s}`).join(' | ')} | last train loss | ms/step |`;
  const rule = `|---|---|${steps.map(() => '---|').join('')}---|---|`;
  const body = rows.map((row) => {
    const cells = steps.map((step) => {
      const e = row.accuracies.find((a) => a.step === step);
      return e === undefined ? (row.diverged ? `diverged @${row.diverged.step}` : '–') : `${(e.testAccuracy * 100).toFixed(2)}%`;
    });
    return `| ${row.variant === 'bn' ? 'BN' : 'plain'} | ${row.learningRate} | ${cells.join(' | ')} | ${row.finalLoss?.toFixed(4) ?? '–'} | ${row.msPerStep?.toFixed(1) ?? '–'} |`;
  });
  return [head, rule, ...body, ''].join('\n');
}

async function sweep(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: DEFAULTS.backend },
      steps: { type: 'string', default: '3000' },
      'eval-every': { type: 'string', default: '1000' },
      lrs: { type: 'string', default: '0.1,0.5,1,2,5,10' },
      seed: { type: 'string', default: String(DEFAULTS.seed) },
      init: { type: 'string', default: DEFAULTS.init },
      'init-std': { type: 'string', default: String(DEFAULTS.initStd) },
      bn: { type: 'string', default: 'both' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const steps = Number(values.steps);
  const evalEvery = Number(values['eval-every']);
  const rates = values.lrs.split(',').map(Number);
  const variants: Variant[] = values.bn === 'on' ? ['bn'] : values.bn === 'off' ? ['plain'] : ['bn', 'plain'];
  const outDir = resolve(values.out ?? join(defaultRunsDirectory(), `sweep-${Date.now()}`));
  mkdirSync(outDir, { recursive: true });
  const dataset = await loadDataset();
  const { module, backend } = await openBackend(values.backend);
  const rows: SweepRow[] = [];
  const evalSteps = Array.from({ length: Math.floor(steps / evalEvery) }, (_, i) => (i + 1) * evalEvery);
  for (const variant of variants) {
    for (const learningRate of rates) {
      const runDir = join(outDir, `${variant}-lr${learningRate}`);
      const experiment = await Experiment.create(
        {
          backend: backend.name,
          variants: [variant],
          steps,
          batchSize: DEFAULTS.batch,
          learningRates: { bn: learningRate, plain: learningRate },
          seed: Number(values.seed),
          init: values.init === 'gaussian' ? { kind: 'gaussian', std: Number(values['init-std']) } : { kind: 'glorot' },
          evalEvery,
          population: DEFAULTS.population,
          populationBatches: DEFAULTS.populationBatches,
          momentum: DEFAULTS.momentum,
          dataDir: null,
          testLimit: null,
          probeUnit: DEFAULTS.probeUnit,
          checkFinite: cheapFiniteCheck(module),
        },
        { outDir: runDir, backend, dataset },
      );
      const metrics = await experiment.run();
      experiment.dispose();
      const run = metrics.runs[0]!;
      rows.push({
        variant,
        learningRate,
        accuracies: run.evals.map((e) => ({ step: e.step, testAccuracy: e.testAccuracy })),
        finalLoss: run.evals.at(-1)?.loss ?? null,
        diverged: run.diverged,
        msPerStep: run.msPerStep,
      });
      const markdown = table(rows, evalSteps);
      writeFileAtomic(join(outDir, 'sweep.md'), markdown);
      writeFileAtomic(
        join(outDir, 'sweep.json'),
        `${JSON.stringify({ backend: backend.name, backendDetails: backend.details, steps, seed: Number(values.seed), init: values.init, initStd: Number(values['init-std']), rows }, null, 2)}\n`,
      );
      process.stdout.write(`${markdown.split('\n').at(-2)}\n`);
    }
  }
  backend.destroy();
  process.stdout.write(`\n${table(rows, evalSteps)}\nWritten to ${outDir}\n`);
}

await sweep();
