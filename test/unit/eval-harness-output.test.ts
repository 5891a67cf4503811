/**
 * The eval harness's pure output functions: number formatting, terminal and Markdown tables,
 * the JSON summary shapes, and the SVG charts (well-formed, escaped).
 */
import { describe, expect, it } from 'vitest';
import {
  fileStamp,
  formatMetric,
  formatNumber,
  jsonSummary,
  renderMarkdownTable,
  renderTextTable,
  type SuiteOutcome,
  slug,
} from '../../eval/report.ts';
import { escapeXml, niceStep, renderChartSvg } from '../../eval/svg.ts';
import type { Chart, SuiteResult } from '../../eval/types.ts';

/** Checks that every tag is closed in order and that text between tags holds no raw < > or bare &. */
function assertWellFormed(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let match = tag.exec(svg); match !== null; match = tag.exec(svg)) {
    const text = svg.slice(last, match.index);
    expect(text, `text before offset ${match.index}`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos);)/);
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = match;
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name ?? '');
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
}

/**
 * `SuiteResult.metrics` is typed `Record<MetricName, ...>`, which makes every well-known name required;
 * suites report only the names that apply, so the fakes here cast a partial record.
 */
function metrics(values: Record<string, number | null>): SuiteResult['metrics'] {
  return values as SuiteResult['metrics'];
}

function result(suite: string, values: Record<string, number | null>): SuiteResult {
  return { suite, metrics: metrics(values), tables: [], charts: [], notes: [] };
}

describe('formatNumber / formatMetric', () => {
  it.each([
    [null, 'n/a'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [0, '0'],
    [42, '42'],
    [0.91234, '0.912'],
    [12.3456, '12.35'],
    [1234.56, '1234.6'],
  ])('formatNumber(%s) = %s', (value, expected) => {
    expect(formatNumber(value)).toBe(expected);
  });

  it('prints rate metrics with three decimals even when whole, counts as integers', () => {
    expect(formatMetric('intent_accuracy', 1)).toBe('1.000');
    expect(formatMetric('oos_recall', 0)).toBe('0.000');
    expect(formatMetric('tier0_count', 0)).toBe('0');
    expect(formatMetric('classify_p99_ms', 3.14567)).toBe('3.15');
    expect(formatMetric('mrr', null)).toBe('n/a');
    expect(formatMetric('mrr', 1)).toBe('1.000');
    expect(formatMetric('answers_generated', 1)).toBe('1');
  });
});

describe('renderTextTable', () => {
  const table = {
    title: 'Per intent',
    header: ['intent', 'accuracy', 'n'],
    rows: [
      ['billing', 1, 120],
      ['a_much_longer_intent_name', 0.9, 7],
    ] as Array<Array<string | number>>,
  };

  it('aligns columns: text left, numbers right, rate columns with three decimals', () => {
    const lines = renderTextTable(table).split('\n');
    expect(lines[0]).toBe('Per intent');
    expect(lines[1]).toBe('intent                     accuracy    n');
    expect(lines[2]).toBe('-------------------------  --------  ---');
    expect(lines[3]).toBe('billing                       1.000  120');
    expect(lines[4]).toBe('a_much_longer_intent_name     0.900    7');
  });

  it('treats a column as rates by its header even when every value is whole', () => {
    const text = renderTextTable({
      title: 't',
      header: ['queries', 'n', 'recall@1', 'generated'],
      rows: [['all', 4, 1, 1]],
    });
    expect(text.split('\n').at(-1)).toBe('all      4     1.000          1');
  });

  it('cuts long tables and says how many rows are in the report', () => {
    const text = renderTextTable(table, 1);
    expect(text).not.toContain('a_much_longer');
    expect(text.split('\n').at(-1)).toBe('… 1 more row in the Markdown report');
  });
});

describe('renderMarkdownTable', () => {
  it('right-aligns numeric columns and escapes pipes, markup and newlines', () => {
    const markdown = renderMarkdownTable({
      title: 't',
      header: ['text', 'score'],
      rows: [['<b>x</b> | y\nz & w', 0.5]],
    });
    expect(markdown.split('\n')).toEqual([
      '| text | score |',
      '|---|---:|',
      '| &lt;b&gt;x&lt;/b&gt; \\| y z &amp; w | 0.500 |',
    ]);
  });
});

describe('jsonSummary', () => {
  const ok = (name: string, values: Record<string, number | null>): SuiteOutcome => ({
    status: 'ok',
    name,
    seconds: 1,
    result: result(name, values),
  });

  it('is exactly {suite, metrics} for one suite that ran', () => {
    expect(jsonSummary([ok('clinc150', { intent_accuracy: 0.95 })], false)).toEqual({
      suite: 'clinc150',
      metrics: { intent_accuracy: 0.95 },
    });
  });

  it('prefixes metric names with the suite in the combined object and lists skipped and failed', () => {
    const summary = jsonSummary(
      [
        ok('clinc150', { intent_accuracy: 0.95, oos_recall: null }),
        ok('mtrag', { mrr: 0.5 }),
        { status: 'skipped', name: 'bitext', reason: 'data missing' },
        { status: 'failed', name: 'banking77', reason: 'boom' },
      ],
      true,
    );
    expect(summary).toEqual({
      suite: 'all',
      metrics: { 'clinc150.intent_accuracy': 0.95, 'clinc150.oos_recall': null, 'mtrag.mrr': 0.5 },
      suites: [
        { suite: 'clinc150', metrics: { intent_accuracy: 0.95, oos_recall: null } },
        { suite: 'mtrag', metrics: { mrr: 0.5 } },
      ],
      skipped: [{ suite: 'bitext', reason: 'data missing' }],
      failed: [{ suite: 'banking77', reason: 'boom' }],
    });
  });

  it('round-trips through JSON.stringify on one line', () => {
    const line = JSON.stringify(jsonSummary([ok('a', { x: 1 })], true));
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ suite: 'all', metrics: { 'a.x': 1 } });
  });
});

describe('file naming', () => {
  it('stamps are sortable and contain no colons', () => {
    expect(fileStamp(new Date('2025-01-02T03:04:05.678Z'))).toBe('2025-01-02T03-04-05Z');
  });

  it('slugs are lowercase and safe', () => {
    expect(slug('Recall@k (top <5>) & more')).toBe('recall-k-top-5-more');
    expect(slug('***')).toBe('chart');
  });
});

describe('SVG charts', () => {
  const hostile = 'Tier 0 <script>alert("x")</script> & \'friends\'';

  it('escapes XML special characters', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
  });

  it('renders a grouped bar chart with axes, labels, legend and escaped text', () => {
    const chart: Chart = {
      title: hostile,
      kind: 'bar',
      xLabel: 'intent <name>',
      yLabel: 'accuracy & co',
      x: ['billing', 'refund_request', hostile],
      series: [
        { name: 'validation', values: [0.9, 0.75, 0.5] },
        { name: 'test <held out>', values: [0.88, 0.7, 0.45] },
      ],
    };
    const svg = renderChartSvg(chart);
    assertWellFormed(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('intent &lt;name&gt;');
    expect(svg).toContain('accuracy &amp; co');
    expect(svg).toContain('test &lt;held out&gt;');
    expect(svg.match(/<rect [^>]*fill="#(1f77b4|ff7f0e)">/g)).toHaveLength(6);
    expect(svg).toContain('class="legend"');
    expect(svg).toContain('>0.4</text>');
    expect(svg).toContain('>1.0</text>');
  });

  it('renders a line chart, breaking the line at a missing value', () => {
    const chart: Chart = {
      title: 'Reliability',
      kind: 'line',
      xLabel: 'confidence',
      yLabel: 'accuracy',
      x: ['0.5', '0.7', '0.9'],
      series: [{ name: 'billing', values: [0.4, Number.NaN, 0.95] }],
    };
    const svg = renderChartSvg(chart);
    assertWellFormed(svg);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    // Two one-point segments: no polyline drawn through the gap.
    expect(svg).not.toContain('<polyline');
    expect(svg).not.toContain('class="legend"');
  });

  it('draws a polyline for consecutive points and places numeric x by value', () => {
    const svg = renderChartSvg({
      title: 'recall@k',
      kind: 'line',
      x: ['1', '3', '5'],
      series: [{ name: 'bm25', values: [0.2, 0.5, 0.6] }],
    });
    assertWellFormed(svg);
    const points = /<polyline points="([^"]+)"/.exec(svg)?.[1]?.split(' ') ?? [];
    const xs = points.map((p) => Number(p.split(',')[0]));
    expect(xs).toHaveLength(3);
    // 1, 3, 5 are evenly spaced by value.
    expect(Math.abs(xs[1]! - xs[0]! - (xs[2]! - xs[1]!))).toBeLessThan(0.05);
  });

  it('says "no data" for an empty chart and stays well-formed', () => {
    const svg = renderChartSvg({ title: 'empty', kind: 'bar', x: [], series: [] });
    assertWellFormed(svg);
    expect(svg).toContain('no data');
  });

  it('grows wider and rotates labels for many categories', () => {
    const x = Array.from({ length: 150 }, (_, i) => `intent_${i}`);
    const svg = renderChartSvg({ title: 'many', kind: 'bar', x, series: [{ name: 'acc', values: x.map(() => 0.5) }] });
    assertWellFormed(svg);
    const width = Number(/<svg [^>]*width="(\d+(?:\.\d+)?)"/.exec(svg)?.[1]);
    expect(width).toBeGreaterThan(1500);
    expect(svg).toContain('rotate(-45');
  });

  it('handles negative values by extending the axis below zero', () => {
    const svg = renderChartSvg({
      title: 'delta',
      kind: 'bar',
      x: ['a', 'b'],
      series: [{ name: 'd', values: [-2, 3] }],
    });
    assertWellFormed(svg);
    expect(svg).toContain('>-2</text>');
  });

  it('picks 1-2-5 tick steps', () => {
    expect(niceStep(1)).toBeCloseTo(0.2);
    expect(niceStep(10)).toBe(2);
    expect(niceStep(0.07)).toBeCloseTo(0.02);
    expect(niceStep(0)).toBe(1);
  });
});
