import { join } from 'node:path';
import { writeFileAtomic } from './files.js';
import { accuracyFloor, renderFigure1 } from './figure.js';
import type { Session } from './provenance.js';
import type { EvalRecord, Metrics, RunRecord } from './trainer.js';

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

/** `seconds` as a reader says it: `4 min 51 s`, `1 h 02 min`, `12.3 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** `args` as one line a shell would read back. */
function commandLine(args: readonly string[]): string {
  return ['batchnorm-mnist', ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
}

/** Provenance: where, with what and how long each invocation of the run ran. */
function provenanceRows(sessions: readonly Session[]): [string, string][] {
  if (sessions.length === 0) return [['provenance', 'not recorded (a run started before this version of the app)']];
  const total = sessions.reduce((sum, s) => sum + s.wallSeconds, 0);
  const rows: [string, string][] = [];
  sessions.forEach((s, i) => {
    const which = sessions.length === 1 ? '' : ` (session ${i + 1} of ${sessions.length}${i === 0 ? '' : ', resumed'})`;
    rows.push(
      [`command${which}`, `<code>${escapeHtml(commandLine(s.argv))}</code> (<code>pnpm mnist</code> runs the same)`],
      [`started${which}`, escapeHtml(s.startedAt)],
      [`wall time${which}`, escapeHtml(formatDuration(s.wallSeconds))],
      ['Node.js', escapeHtml(s.node)],
      ['CPU', escapeHtml(`${s.cpu} (${s.cpuCount} logical CPUs)${s.loadAverage == null ? '' : `, load average ${s.loadAverage} at the start`}`)],
      ['OS', escapeHtml(s.os)],
      ['packages', escapeHtml(Object.entries(s.packages).map(([name, version]) => `${name} ${version}`).join(', '))],
      ['git commit', s.gitCommit === null ? 'not in a git checkout' : `<code>${escapeHtml(s.gitCommit)}</code>`],
    );
  });
  rows.push(['total wall time', `<strong id="wall-time">${escapeHtml(formatDuration(total))}</strong> (data loading, training, evaluations, model files; the report itself excluded)`]);
  return rows;
}

/** Signed percentage points, two decimals: `+0.12`, `−0.46`. */
function points(difference: number): string {
  const value = (difference * 100).toFixed(2);
  return difference > 0 ? `+${value}` : difference < 0 ? `−${value.slice(1)}` : '0.00';
}

/** The exact-vs-moving comparison of every BN evaluation, or '' when there is none. */
function populationSection(metrics: Metrics, milestones: readonly number[]): string {
  const run = metrics.runs.find((r) => r.variant === 'bn');
  const evals = (run?.evals ?? []).filter(
    (e): e is EvalRecord & { testAccuracyByPopulation: NonNullable<EvalRecord['testAccuracyByPopulation']> } =>
      e.step > 0 && e.testAccuracyByPopulation !== undefined,
  );
  if (run === undefined || evals.length === 0) return '';
  const diff = (e: (typeof evals)[number]) => e.testAccuracyByPopulation.exact - e.testAccuracyByPopulation.moving;
  const summarize = (list: typeof evals) => {
    if (list.length === 0) return '–';
    const d = list.map(diff);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const largest = d.reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a), 0);
    const at = list[d.indexOf(largest)]!.step.toLocaleString('en-US');
    const exactAhead = d.filter((x) => x > 0).length;
    const movingAhead = d.filter((x) => x < 0).length;
    return (
      `${list.length} evaluations: exact − moving ${points(mean)} points on average, largest ${points(largest)} ` +
      `(step ${at}); exact ahead at ${exactAhead}, moving at ${movingAhead}, equal at ${d.length - exactAhead - movingAhead}`
    );
  };
  const rows = evals
    .filter((e) => milestones.includes(e.step))
    .map((e) =>
      row([
        e.step.toLocaleString('en-US'),
        formatPercent(e.testAccuracyByPopulation.exact),
        formatPercent(e.testAccuracyByPopulation.moving),
        points(diff(e)),
      ]),
    );
  const used = metrics.config.population;
  return `<h2>BN population statistics: exact against moving</h2>
<p>Every BN evaluation measures the test accuracy with both kinds of inference statistics (the run
reports <strong>${used}</strong>): <em>exact</em>, the paper's Algorithm 2 (the weights frozen,
${metrics.config.populationBatches} training mini-batches averaged, Var = m/(m−1)·E[σ²<sub>B</sub>]), and
<em>moving</em>, the running averages kept during training (momentum ${metrics.config.momentum}, the
weight of the new batch).</p>
<table id="population">
${row(['step', 'exact', 'moving', 'exact − moving (points)'], true)}
${rows.join('\n')}
</table>
<p id="population-summary">All ${escapeHtml(summarize(evals))}.<br>
After step 1,000: ${escapeHtml(summarize(evals.filter((e) => e.step > 1000)))}.</p>`;
}

/** What the paper reports for Figure 1, and how this run compares (computed, not asserted). */
function paperSection(metrics: Metrics): string {
  const bn = metrics.runs.find((r) => r.variant === 'bn');
  const plain = metrics.runs.find((r) => r.variant === 'plain');
  let comparison = '<p>This run trained one variant only: there is no with/without comparison.</p>';
  if (bn !== undefined && plain !== undefined) {
    const plainAt = new Map(plain.evals.map((e) => [e.step, e.testAccuracy]));
    const shared = bn.evals.filter((e) => e.step > 0 && plainAt.has(e.step));
    const ahead = shared.filter((e) => e.testAccuracy > plainAt.get(e.step)!).length;
    const lastBn = finalOf(bn);
    const lastPlain = finalOf(plain);
    const finals =
      lastBn === undefined || lastPlain === undefined
        ? ''
        : ` Final test accuracy: with BN <strong>${formatPercent(lastBn.testAccuracy)}</strong> (step ${lastBn.step.toLocaleString('en-US')}), ` +
          `without BN <strong>${formatPercent(lastPlain.testAccuracy)}</strong> (step ${lastPlain.step.toLocaleString('en-US')}).`;
    const steps = metrics.config.steps === 50_000 ? '' : ` This run trained ${metrics.config.steps.toLocaleString('en-US')} steps per variant, the paper 50,000.`;
    comparison = `<p id="paper-comparison">In this run BN is ahead at ${ahead} of the ${shared.length} evaluations both
variants made.${finals}${steps} Panels (b) and (c) show the spread of the probed sigmoid input over training,
without and with BN.</p>`;
  }
  return `<h2>The paper's results, for comparison</h2>
<p>Ioffe &amp; Szegedy (2015), §4.1: a network of 3 fully-connected hidden layers of 100 sigmoid units
on 28×28 MNIST images, trained for 50,000 steps on mini-batches of 60 examples, with and without BN.
The paper reports this experiment as the curves of its Figure 1 only: it states no test accuracy as a
number. What it states (caption of Figure 1 and §4.1): “Batch Normalization helps the network train
faster and achieve higher accuracy”; “The batch-normalized network enjoys the higher test accuracy”;
and of the sigmoid inputs (b, c), “Batch Normalization makes the distribution more stable and reduces
the internal covariate shift.” The paper gives no learning rate and no initial scale (“small random
Gaussian values”); this run's are in the configuration below.</p>
${comparison}`;
}

/** The self-contained report: figure inline, configuration, results, backend. */
export function reportHtml(metrics: Metrics, svg: string): string {
  const c = metrics.config;
  const floor = accuracyFloor(metrics);
  const floorNote =
    floor > 0
      ? `; the accuracy axis starts at ${Math.round(floor * 100)}%, not 0 (evaluations below it, if any, are marked ▼ on its lower edge)`
      : '';
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
  const population = populationSection(metrics, milestones);
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
    [
      'data',
      escapeHtml(
        `${metrics.dataset.name}: ${metrics.dataset.trainImages.toLocaleString('en-US')} training images, ` +
          `${metrics.dataset.testImages.toLocaleString('en-US')} test images evaluated`,
      ),
    ],
    ['started', escapeHtml(metrics.startedAt)],
    ['updated', escapeHtml(metrics.updatedAt)],
  ];
  const models = metrics.runs.map((run) => `<a href="${run.variant}.onnx">${run.variant}.onnx</a>, <a href="${run.variant}.safetensors">${run.variant}.safetensors</a>`);
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
  figure svg { width: 100%; height: auto; }
  figcaption { color: #444; font-size: 0.95rem; }
  p { max-width: 60rem; line-height: 1.45; }
  code { font-size: 0.9em; }
</style>
</head>
<body>
<h1>Batch Normalization on MNIST (Ioffe &amp; Szegedy 2015, §4.1, Figure 1)</h1>
<figure id="figure1">
${svg}
<figcaption>(a) Test accuracy of the 784-100-100-100-10 sigmoid network trained with and without
Batch Normalization${floorNote}. (b, c) The 15th, 50th and 85th percentiles, over the test images, of the
input to one sigmoid of the last hidden layer (unit ${c.probeUnit}), without and with BN, on a shared
scale. PNG: <a href="figure1.png">figure1.png</a>.</figcaption>
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
${paperSection(metrics)}
${population}
<h2>Configuration</h2>
<table id="configuration">
${configRows.map(([k, v]) => row([k, v])).join('\n')}
</table>
<h2>Provenance</h2>
<table id="provenance">
${provenanceRows(metrics.sessions ?? []).map(([k, v]) => row([k, v])).join('\n')}
</table>
<p>Raw numbers: <a href="metrics.json">metrics.json</a>. The trained networks, for ONNX Runtime and
PyTorch (see the app's README): ${models.join('; ')} (written for each variant whose last evaluation
is its last step).</p>
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
