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

/** Page width of the report's figure (px): the SVG is drawn at the size it is shown, so its text keeps its size. */
export const FIGURE_WIDTH = 1060;
/** Smallest text in the figure (tick labels, legends), px at page width. */
export const FIGURE_MIN_FONT = 13;

/**
 * Panel (a)'s lower bound: the trained part of the curves (from 5% of the run on) sets it, as
 * the paper's own axis starts well above chance; the first evaluations fall below it and are
 * marked, not drawn. 0 when nothing needs clipping.
 */
export function accuracyFloor(metrics: Metrics): number {
  const rows = metrics.runs.flatMap((run) => run.evals.filter((e) => e.step > 0));
  const lastStep = Math.max(0, ...rows.map((e) => e.step));
  const trained = rows.filter((e) => e.step >= lastStep / 20).map((e) => e.testAccuracy);
  return trained.length === 0 ? 0 : Math.max(0, Math.floor(Math.min(...trained) * 20) / 20 - 0.05);
}

/** The vega-lite spec of Figure 1: (a) test accuracy, (b, c) the probe's input percentiles. */
export function figure1Spec(metrics: Metrics): TopLevelSpec {
  const accuracy = metrics.runs.flatMap((run) =>
    run.evals.filter((e) => e.step > 0).map((e) => ({ step: e.step, variant: VARIANT_LABEL[run.variant], accuracy: e.testAccuracy })),
  );
  const floor = accuracyFloor(metrics);
  const clipped = accuracy.filter((row) => row.accuracy < floor).map((row) => ({ ...row, accuracy: floor }));
  const byVariant = (variant: 'bn' | 'plain') => metrics.runs.find((run) => run.variant === variant);
  const percentileValues = metrics.runs.flatMap((run) => percentileRows(run).map((row) => row.value));
  const low = Math.min(...percentileValues);
  const high = Math.max(...percentileValues);
  const pad = (high - low) * 0.05 || 0.5;
  const sharedDomain = [low - pad, high + pad];
  // Three panels side by side fill FIGURE_WIDTH: each plot plus its y axis (about 62 px) and the gaps.
  const width = 262;
  const height = 220;
  const x = {
    field: 'step',
    type: 'quantitative',
    title: 'training steps',
    axis: { tickCount: 5, labelExpr: "datum.value >= 1000 ? format(datum.value / 1000, '~g') + 'k' : format(datum.value, '~g')" },
  } as const;
  const legend = { orient: 'bottom', direction: 'horizontal', title: null } as const;
  const variantScale = { domain: ['with BN', 'without BN'], range: ['#1f77b4', '#d62728'] };
  // Panel titles as text marks at fixed positions over each plot's left edge: vega's own titles
  // sit above each panel's axis extent, which differs with the tick labels, so they did not align.
  // Keep them short: without a canvas vega sizes the figure by estimating text at 0.8 em a
  // character, so a long line would widen the SVG with blank space and shrink it on the page.
  const panelTitle = (text: string, subtitle: string) => ({
    data: { values: [{ text, subtitle }] },
    layer: [
      {
        mark: { type: 'text', align: 'left', baseline: 'alphabetic', fontSize: 16, fontWeight: 'bold', fill: '#222' },
        encoding: { text: { field: 'text' }, x: { value: 0 }, y: { value: -26 } },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'alphabetic', fontSize: FIGURE_MIN_FONT, fill: '#444' },
        encoding: { text: { field: 'subtitle' }, x: { value: 0 }, y: { value: -9 } },
      },
    ],
  });

  const accuracyLayers: unknown[] = [
    {
      mark: { type: 'line', point: accuracy.length < 60, clip: true },
      encoding: {
        x,
        y: {
          field: 'accuracy',
          type: 'quantitative',
          title: 'test accuracy',
          // Not niced: the axis starts exactly at the floor, where the ▼ marks sit.
          scale: { domain: [floor, 1], nice: false },
          axis: { format: '.0%', tickCount: 6 },
        },
        color: { field: 'variant', type: 'nominal', scale: variantScale, legend },
        strokeDash: {
          field: 'variant',
          type: 'nominal',
          scale: { domain: variantScale.domain, range: [[1, 0], [6, 3]] },
          legend,
        },
      },
    },
  ];
  if (clipped.length > 0) {
    // Evaluations below the axis: a ▼ on its lower edge for each.
    accuracyLayers.push({
        data: { values: clipped },
        mark: { type: 'point', shape: 'triangle-down', filled: true, size: 50, opacity: 0.9 },
        encoding: {
          x: { field: 'step', type: 'quantitative' },
          y: { field: 'accuracy', type: 'quantitative' },
          color: { field: 'variant', type: 'nominal', scale: variantScale },
        },
    });
  }
  if (floor > 0) {
    // The axis does not start at 0: say so in the plot, with the count of points left below it.
    const below = clipped.length === 0 ? '' : `; ▼ ${clipped.length} of ${accuracy.length} below`;
    accuracyLayers.push({
      data: { values: [{ note: `axis from ${Math.round(floor * 100)}%${below}` }] },
      mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -4, dy: -8, fontSize: FIGURE_MIN_FONT, fill: '#444' },
      encoding: { text: { field: 'note' }, x: { value: width }, y: { value: height } },
    });
  }
  const panels: unknown[] = [
    {
      width,
      height,
      data: { values: accuracy },
      layer: [...accuracyLayers, panelTitle('(a) Test accuracy', `on ${metrics.dataset.testImages.toLocaleString('en-US')} test images`)],
    },
  ];
  for (const [variant, title] of [
    ['plain', '(b) Without BN'],
    ['bn', '(c) With BN'],
  ] as const) {
    const run = byVariant(variant);
    if (run === undefined) continue;
    panels.push({
      width,
      height,
      data: { values: percentileRows(run) },
      layer: [
        {
      mark: 'line',
      encoding: {
        x,
        y: {
          field: 'value',
          type: 'quantitative',
          title: 'sigmoid input',
          scale: { domain: sharedDomain, nice: false },
        },
        color: {
          field: 'percentile',
          type: 'ordinal',
          scale: { domain: ['85th', '50th', '15th'], range: ['#2ca02c', '#000000', '#9467bd'] },
          legend,
        },
      },
        },
        panelTitle(title, 'sigmoid input percentiles'),
      ],
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 8,
    // Plots aligned by their frames; the gap holds the next panel's y axis.
    bounds: 'flush',
    spacing: 84,
    config: {
      font: FONT,
      axis: { labelFontSize: FIGURE_MIN_FONT, titleFontSize: 14, titleFontWeight: 'normal', labelColor: '#222', titleColor: '#222' },
      legend: { labelFontSize: FIGURE_MIN_FONT, symbolStrokeWidth: 2.5, symbolSize: 120, columnPadding: 10, offset: 10 },
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
