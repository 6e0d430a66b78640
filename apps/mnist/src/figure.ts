import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Metrics, RunRecord } from './trainer.js';

const VARIANT_LABEL = { bn: 'with BN', plain: 'without BN' } as const;
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

function percentileRows(run: RunRecord) {
  return run.evals.flatMap((e) => [
    { step: e.step, percentile: '15th', value: e.percentiles.p15 },
    { step: e.step, percentile: '50th', value: e.percentiles.p50 },
    { step: e.step, percentile: '85th', value: e.percentiles.p85 },
  ]);
}

/** The vega-lite spec of Figure 1: (a) test accuracy, (b, c) the probe's input percentiles. */
export function figure1Spec(metrics: Metrics): TopLevelSpec {
  const accuracy = metrics.runs.flatMap((run) =>
    run.evals.map((e) => ({ step: e.step, variant: VARIANT_LABEL[run.variant], accuracy: e.testAccuracy })),
  );
  // Scale panel (a) to the trained part of the curves (from 5% of the run on), as the paper's
  // 0.7–1.0 axis does; the first evaluations are clipped rather than flattening everything else.
  const lastStep = Math.max(0, ...accuracy.map((row) => row.step));
  const trained = accuracy.filter((row) => row.step > 0 && row.step >= lastStep / 20).map((row) => row.accuracy);
  const accuracyFloor =
    trained.length === 0 ? 0 : Math.max(0, Math.floor(Math.min(...trained) * 20) / 20 - 0.05);
  const byVariant = (variant: 'bn' | 'plain') => metrics.runs.find((run) => run.variant === variant);
  const percentileValues = metrics.runs.flatMap((run) => percentileRows(run).map((row) => row.value));
  const low = Math.min(...percentileValues);
  const high = Math.max(...percentileValues);
  const pad = (high - low) * 0.05 || 0.5;
  const sharedDomain = [low - pad, high + pad];
  const width = 300;
  const height = 240;

  const panels: TopLevelSpec[] = [];
  panels.push({
    title: '(a) Test accuracy',
    width,
    height,
    data: { values: accuracy.filter((row) => row.step > 0) },
    mark: { type: 'line', point: accuracy.length < 60, clip: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training steps' },
      y: {
        field: 'accuracy',
        type: 'quantitative',
        title: 'test accuracy',
        scale: { domain: [accuracyFloor, 1] },
        axis: { format: '.0%' },
      },
      color: {
        field: 'variant',
        type: 'nominal',
        title: null,
        scale: { domain: ['with BN', 'without BN'], range: ['#1f77b4', '#d62728'] },
      },
      strokeDash: {
        field: 'variant',
        type: 'nominal',
        scale: { domain: ['with BN', 'without BN'], range: [[1, 0], [6, 3]] },
      },
    },
  } as TopLevelSpec);
  for (const [variant, title] of [
    ['plain', '(b) Without BN'],
    ['bn', '(c) With BN'],
  ] as const) {
    const run = byVariant(variant);
    if (run === undefined) continue;
    panels.push({
      title: `${title}: sigmoid input percentiles`,
      width,
      height,
      data: { values: percentileRows(run) },
      mark: 'line',
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'training steps' },
        y: {
          field: 'value',
          type: 'quantitative',
          title: 'input to one last-layer sigmoid',
          scale: { domain: sharedDomain, nice: false },
        },
        color: {
          field: 'percentile',
          type: 'ordinal',
          title: 'percentile',
          scale: { domain: ['85th', '50th', '15th'], range: ['#2ca02c', '#000000', '#9467bd'] },
          },
      },
    } as TopLevelSpec);
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 12,
    config: {
      font: FONT,
      title: { fontSize: 14, anchor: 'start' },
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 11, titleFontSize: 11, fillColor: 'white', strokeColor: '#ccc', padding: 6 },
    },
    resolve: { scale: { color: 'independent', strokeDash: 'independent', y: 'independent' }, legend: { color: 'independent', strokeDash: 'independent' } },
    hconcat: panels,
  } as TopLevelSpec;
}

/** Renders Figure 1 to SVG (vega's headless renderer) and PNG (resvg). */
export async function renderFigure1(metrics: Metrics): Promise<{ svg: string; png: Uint8Array }> {
  const vegaSpec = compile(figure1Spec(metrics)).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: 2 },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    })
      .render()
      .asPng();
    return { svg, png };
  } finally {
    view.finalize();
  }
}
