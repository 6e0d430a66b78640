import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import { renderFigure1 } from './figure.js';
import type { Metrics, RunRecord } from './trainer.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const VARIANT_LABEL = { bn: 'with BN', plain: 'without BN' } as const;

export function formatPercent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

function finalOf(run: RunRecord) {
  return run.evals.at(-1);
}

function row(cells: readonly string[], header = false): string {
  const tag = header ? 'th' : 'td';
  return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
}

/** The self-contained report: figure inline, configuration, results, backend. */
export function reportHtml(metrics: Metrics, svg: string): string {
  const c = metrics.config;
  const results = metrics.runs.map((run) => {
    const last = finalOf(run);
    return row([
      VARIANT_LABEL[run.variant],
      String(run.learningRate),
      `${run.stepsDone.toLocaleString('en-US')}`,
      last === undefined ? '–' : `<strong class="accuracy" data-variant="${run.variant}">${formatPercent(last.testAccuracy)}</strong>`,
      last?.loss == null ? '–' : last.loss.toFixed(4),
      run.msPerStep === null ? '–' : `${run.msPerStep.toFixed(2)} ms`,
      run.diverged === null ? 'no' : escapeHtml(`at step ${run.diverged.step}: ${run.diverged.reason}`),
    ]);
  });
  // Round milestones (1, 2, 3, 5 × 10^k steps) and the last evaluation, like a reader would pick.
  const allSteps = [...new Set(metrics.runs.flatMap((run) => run.evals.map((e) => e.step)))].sort((a, b) => a - b);
  const isRound = (step: number) => {
    const magnitude = 10 ** Math.floor(Math.log10(step));
    return [1, 2, 3, 5].includes(step / magnitude);
  };
  const milestones = allSteps.filter((step, i) => step > 0 && (isRound(step) || i === allSteps.length - 1));
  const curve = milestones.map((step) =>
    row([
      step.toLocaleString('en-US'),
      ...metrics.runs.map((run) => {
        const e = run.evals.find((record) => record.step === step);
        return e === undefined ? '–' : formatPercent(e.testAccuracy);
      }),
    ]),
  );
  const backend = metrics.runs[0];
  const details = backend === undefined ? {} : backend.backendDetails;
  const configRows: [string, string][] = [
    ['backend', escapeHtml(c.backend)],
    ['backend details', escapeHtml(Object.entries(details).map(([k, v]) => `${k}: ${String(v)}`).join(', ') || '–')],
    ['precision', escapeHtml(backend?.dtype ?? '–')],
    ['network', '784-100-100-100-10, sigmoid hidden units, softmax cross-entropy'],
    ['variants', escapeHtml(c.variants.map((v) => VARIANT_LABEL[v]).join(', '))],
    ['steps per variant', c.steps.toLocaleString('en-US')],
    ['mini-batch', String(c.batchSize)],
    ['learning rates (SGD)', escapeHtml(c.variants.map((v) => `${VARIANT_LABEL[v]}: ${c.learningRates[v]}`).join(', '))],
    ['seed', String(c.seed)],
    [
      'initial weights',
      c.init?.kind === 'gaussian' ? `Gaussian N(0, ${c.init.std}²) (the paper's "small random Gaussian values")` : 'Glorot uniform',
    ],
    ['evaluation', `every ${c.evalEvery} steps on ${metrics.dataset.testImages.toLocaleString('en-US')} test images`],
    [
      'BN population statistics',
      c.population === 'exact'
        ? `exact (paper Algorithm 2): averaged over ${c.populationBatches} training mini-batches with the weights frozen, Var = m/(m−1)·E[σ²]`
        : `moving average, momentum ${c.momentum} (weight of the new batch), unbiased variance`,
    ],
    ['probe (Figure 1 b, c)', `input of sigmoid unit ${c.probeUnit} of the last hidden layer`],
    ['data', escapeHtml(`${metrics.dataset.directory} (${metrics.dataset.trainImages.toLocaleString('en-US')} training images)`)],
    ['started', escapeHtml(metrics.startedAt)],
    ['updated', escapeHtml(metrics.updatedAt)],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Batch Normalization on MNIST: Figure 1</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
  table { border-collapse: collapse; margin: 1rem 0; }
  th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
  th { background: #f4f4f4; }
  figure { margin: 1rem 0; }
  figure svg { max-width: 100%; height: auto; }
  figcaption { color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>Batch Normalization on MNIST (Ioffe &amp; Szegedy 2015, §4.1, Figure 1)</h1>
<figure id="figure1">
${svg}
<figcaption>(a) Test accuracy of the 784-100-100-100-10 sigmoid network trained with and without
Batch Normalization. (b, c) The 15th, 50th and 85th percentiles, over the test images, of the input to one
sigmoid of the last hidden layer, without and with BN. PNG: <a href="figure1.png">figure1.png</a>.</figcaption>
</figure>
<h2>Results</h2>
<table id="results">
${row(['variant', 'learning rate', 'steps', 'final test accuracy', 'last training loss', 'time per step', 'diverged'], true)}
${results.join('\n')}
</table>
<h2>Test accuracy over training</h2>
<table id="curve">
${row(['step', ...metrics.runs.map((run) => VARIANT_LABEL[run.variant])], true)}
${curve.join('\n')}
</table>
<h2>Configuration</h2>
<table id="configuration">
${configRows.map(([k, v]) => row([k, v])).join('\n')}
</table>
<p>Raw numbers: <a href="metrics.json">metrics.json</a>.</p>
</body>
</html>
`;
}

/** Writes figure1.svg, figure1.png and report.html into `outDir`. */
export async function writeReport(metrics: Metrics, outDir: string): Promise<void> {
  const { svg, png } = await renderFigure1(metrics);
  writeFileAtomic(join(outDir, 'figure1.svg'), svg);
  writeFileAtomic(join(outDir, 'figure1.png'), png);
  writeFileAtomic(join(outDir, 'report.html'), reportHtml(metrics, svg));
}
