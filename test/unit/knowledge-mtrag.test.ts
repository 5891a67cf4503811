import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  loadMtragCloud,
  mtragAvailable,
  mtragSplit,
  parseMtragTasks,
  parsePythonLiteral,
  parseQrels,
} from '../../eval/datasets/mtrag.ts';
import { recallAtK, reciprocalRank, summarizeRetrieval } from '../../eval/metrics/retrieval.ts';
import { createKbBacktestSuite, parseQuestions } from '../../eval/suites/kb-backtest.ts';
import { suite as mtragSuite } from '../../eval/suites/mtrag.ts';
import type { SuiteOptions } from '../../eval/types.ts';

const SHARED = fileURLToPath(new URL('../../../shared', import.meta.url));
const SAMPLE_KB = fileURLToPath(new URL('../../samples/kb', import.meta.url));

describe('parsePythonLiteral', () => {
  it('parses lists and dicts of single-quoted strings', () => {
    expect(parsePythonLiteral("['ANSWERABLE']")).toEqual(['ANSWERABLE']);
    expect(parsePythonLiteral("[{'document_id': 'ibmcld_1-2-3', 'text': 'It\\'s \"quoted\"\\nnext'}]")).toEqual([
      { document_id: 'ibmcld_1-2-3', text: 'It\'s "quoted"\nnext' },
    ]);
    expect(parsePythonLiteral(`["don't", 'say "hi"']`)).toEqual(["don't", 'say "hi"']);
  });

  it('handles escapes, prefixes, numbers, booleans, None, tuples and trailing commas', () => {
    expect(parsePythonLiteral("'caf\\xe9 \\u2603 \\U0001F600 \\\\ \\d'")).toBe('café ☃ 😀 \\ \\d');
    expect(parsePythonLiteral("u'x'")).toBe('x');
    expect(parsePythonLiteral("r'a\\nb'")).toBe('a\\nb');
    expect(parsePythonLiteral("'''multi\nline'''")).toBe('multi\nline');
    expect(parsePythonLiteral("'a' 'b'")).toBe('ab');
    expect(parsePythonLiteral("{'n': -1.5e2, 'ok': True, 'no': False, 'none': None, 't': (1, 2,),}")).toEqual({
      n: -150,
      ok: true,
      no: false,
      none: null,
      t: [1, 2],
    });
    expect(parsePythonLiteral(' [ ] ')).toEqual([]);
  });

  it('rejects malformed input with a position', () => {
    expect(() => parsePythonLiteral("['unterminated")).toThrow(/unterminated/);
    expect(() => parsePythonLiteral("['a' 'b' x]")).toThrow(/expected/);
    expect(() => parsePythonLiteral("['a'] extra")).toThrow(/trailing/);
    expect(() => parsePythonLiteral('{1: 2, [1]: 3}')).toThrow(/keys/);
    expect(() => parsePythonLiteral("'line\nbreak'")).toThrow(/newline/);
  });
});

describe('MTRAG parsing', () => {
  const line = (fields: Record<string, unknown>) =>
    JSON.stringify({
      conversation_id: 'c1',
      task_id: 'c1<::>2',
      turn: '2',
      Collection: 'ibmcloud',
      input: [
        { speaker: 'user', text: 'What is a VPC?' },
        { speaker: 'agent', text: 'A virtual network.' },
        { speaker: 'user', text: 'How much does it cost?' },
      ],
      contexts: [{ document_id: 'd1', text: 'VPC pricing' }],
      answerability: ['ANSWERABLE'],
      ...fields,
    });

  it('accepts fields as JSON arrays or as Python-literal strings', () => {
    const [asJson] = parseMtragTasks(line({}), 'ref.jsonl');
    const [asPython] = parseMtragTasks(
      line({
        input:
          "[{'speaker': 'user', 'text': 'What is a VPC?'}, {'speaker': 'agent', 'text': 'A virtual network.'}, {'speaker': 'user', 'text': 'How much does it cost?'}]",
        contexts: "[{'document_id': 'd1', 'text': 'VPC pricing'}]",
        answerability: "['ANSWERABLE']",
      }),
      'ref.jsonl',
    );
    expect(asPython).toEqual(asJson);
    expect(asJson?.userTurns).toEqual(['What is a VPC?', 'How much does it cost?']);
    expect(asJson?.answerability).toBe('ANSWERABLE');
  });

  it('names the line of a bad task and of a bad qrels row', () => {
    expect(() => parseMtragTasks(`${line({})}\n${line({ answerability: "['oops" })}`, 'ref.jsonl')).toThrow(
      /ref\.jsonl:2/,
    );
    expect(() => parseQrels('query-id\tcorpus-id\tscore\nq1\td1\n', 'cloud.tsv')).toThrow(/cloud\.tsv:2/);
    const qrels = parseQrels('query-id\tcorpus-id\tscore\nc<::>2\td1\t1\nc<::>2\td2\t1\nc<::>2\td3\t0\n', 'q.tsv');
    expect([...(qrels.get('c<::>2') ?? [])]).toEqual(['d1', 'd2']);
  });

  it('splits conversations deterministically into two halves', () => {
    const ids = Array.from({ length: 200 }, (_, index) => `conversation-${index}`);
    const halves = ids.map(mtragSplit);
    expect(ids.map(mtragSplit)).toEqual(halves);
    const calibration = halves.filter((half) => half === 'calibration').length;
    expect(calibration).toBeGreaterThan(60);
    expect(calibration).toBeLessThan(140);
  });
});

describe('retrieval metrics', () => {
  it('computes recall@k and reciprocal rank per query and averages them', () => {
    const relevant = new Set(['b', 'd']);
    expect(recallAtK(['a', 'b', 'c', 'd'], relevant, 1)).toBe(0);
    expect(recallAtK(['a', 'b', 'c', 'd'], relevant, 3)).toBe(0.5);
    expect(recallAtK(['a', 'b', 'c', 'd'], relevant, 4)).toBe(1);
    expect(reciprocalRank(['a', 'b'], relevant)).toBe(0.5);
    expect(reciprocalRank(['a'], relevant)).toBe(0);
    const summary = summarizeRetrieval([
      { ranked: ['b'], relevant: new Set(['b']) },
      { ranked: ['x', 'y', 'z'], relevant: new Set(['z']) },
      { ranked: ['x'], relevant: new Set() },
    ]);
    expect(summary.queries).toBe(2);
    expect(summary.recallAt[1]).toBe(0.5);
    expect(summary.recallAt[3]).toBe(1);
    expect(summary.mrr).toBeCloseTo((1 + 1 / 3) / 2, 10);
    expect(() => recallAtK(['a'], relevant, 0)).toThrow(/positive/);
  });
});

const options = (quick: boolean): SuiteOptions => ({ sharedDir: SHARED, quick, progress: () => {} });

describe.skipIf(!existsSync(join(SHARED, 'datasets', 'mtrag_un')))('MTRAG ibmcloud data (needs ../shared)', () => {
  it('loads 131 tasks, a 248-passage KB and qrels keyed by task id', () => {
    expect(mtragAvailable(SHARED)).toBe(true);
    const data = loadMtragCloud(SHARED);
    expect(data.tasks).toHaveLength(131);
    expect(data.articles).toHaveLength(248);
    expect(data.qrels.size).toBe(86);
    expect(data.unmatchedQrelIds).toEqual([]);
    const ids = new Set(data.articles.map((article) => article.id));
    for (const relevant of data.qrels.values()) for (const id of relevant) expect(ids.has(id)).toBe(true);
    expect(data.tasks.every((task) => task.userTurns.length > 0)).toBe(true);
  });

  it('the suite reports recall, MRR and gate rates, beating the last-turn baseline', async () => {
    const result = await mtragSuite.run(options(true));
    const metrics = result.metrics;
    for (const name of [
      'recall_at_1',
      'recall_at_3',
      'recall_at_5',
      'mrr',
      'unanswerable_decline_rate',
      'answerable_false_decline_rate',
    ]) {
      const value = metrics[name];
      expect(typeof value).toBe('number');
      expect(value as number).toBeGreaterThanOrEqual(0);
      expect(value as number).toBeLessThanOrEqual(1);
    }
    expect(metrics.recall_at_5 as number).toBeGreaterThanOrEqual(metrics.recall_at_3 as number);
    expect(metrics.full_recall_at_3 as number).toBeGreaterThan(metrics.baseline_last_turn_recall_at_3 as number);
    expect(result.charts.map((chart) => chart.kind).sort()).toEqual(['bar', 'line']);
    expect(result.notes.join('\n')).toContain('<::>');
  });
});

describe('KB backtest suite', () => {
  it('runs on the sample KB and its questions', async () => {
    const suite = createKbBacktestSuite({ kbPath: SAMPLE_KB, questionsPath: join(SAMPLE_KB, 'questions.jsonl') });
    expect(suite.available(options(false))).toBe(true);
    const result = await suite.run(options(false));
    expect(result.metrics.recall_at_3 as number).toBeGreaterThanOrEqual(0.9);
    expect(result.metrics.unanswerable_decline_rate).not.toBeNull();
    expect(result.tables.map((table) => table.title).join('\n')).toContain('calibration half');
  });

  it('gives clear errors for bad question lines and unknown article ids', async () => {
    expect(() => parseQuestions('{"id":"q1","question":"hi","answerable":true}', 'q.jsonl')).toThrow(
      /q\.jsonl:1: .*article id/,
    );
    expect(() => parseQuestions('\n{"id":"q1","question":"","answerable":false}', 'q.jsonl')).toThrow(/q\.jsonl:2/);
    expect(() => parseQuestions('not json', 'q.jsonl')).toThrow(/q\.jsonl:1: not valid JSON/);
    const dir = mkdtempSync(join(tmpdir(), 'kb-backtest-'));
    try {
      writeFileSync(join(dir, 'kb.jsonl'), '{"id":"a","title":"Alpha","body":"alpha body"}\n');
      writeFileSync(join(dir, 'q.jsonl'), '{"id":"q1","question":"alpha?","article_ids":["zzz"],"answerable":true}\n');
      const suite = createKbBacktestSuite({ kbPath: join(dir, 'kb.jsonl'), questionsPath: join(dir, 'q.jsonl') });
      await expect(suite.run(options(false))).rejects.toThrow(/unknown article ids: zzz/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('falls back to the default gate when one class is missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-backtest-'));
    try {
      writeFileSync(
        join(dir, 'kb.jsonl'),
        '{"id":"a","title":"Kayak rental","body":"Rent a kayak by the hour."}\n{"id":"b","title":"Bike repair","body":"Flat tyres fixed the same day."}\n',
      );
      writeFileSync(
        join(dir, 'q.jsonl'),
        '{"id":"q1","question":"rent a kayak","article_ids":["a"],"answerable":true}\n{"id":"q2","question":"flat tyres","article_ids":["b"],"answerable":true}\n',
      );
      const suite = createKbBacktestSuite({ kbPath: join(dir, 'kb.jsonl'), questionsPath: join(dir, 'q.jsonl') });
      const result = await suite.run(options(false));
      expect(result.metrics.recall_at_1).toBe(1);
      expect(result.metrics.unanswerable_decline_rate).toBeNull();
      expect(result.notes.join(' ')).toContain('default gate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
