/**
 * MTRAG-UN (IBM, Apache-2.0): multi-turn retrieval tasks with answerability labels. We read the
 * ibmcloud collection: the KB is the union of the reference passages of its generation tasks,
 * queries are the conversations, relevance comes from retrieval_tasks/qrels/cloud.tsv.
 *
 * The dataset README says several fields are strings holding Python literals (single quotes); the
 * copy we have stores them as JSON arrays. Both are accepted: a string goes through the Python
 * literal parser below, anything else is validated as is.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../../server/errors.ts';
import type { Article } from '../../server/triage/types.ts';

export type PythonLiteral = string | number | boolean | null | PythonLiteral[] | { [key: string]: PythonLiteral };

function literalError(message: string, text: string, position: number): AppError {
  return new AppError('VALIDATION_FAILED', `Python literal: ${message} at offset ${position}`, {
    details: { position, near: text.slice(Math.max(0, position - 20), position + 20) },
  });
}

/**
 * Parses Python literal syntax for strings (single, double, triple quoted; u/r/b prefixes),
 * numbers, True/False/None, lists, tuples and dicts with string or number keys.
 */
export function parsePythonLiteral(text: string): PythonLiteral {
  let position = 0;

  const skipSpace = (): void => {
    while (position < text.length && /\s/.test(text[position] ?? '')) position++;
  };

  const parseString = (): string => {
    let raw = false;
    while (/[uUrRbB]/.test(text[position] ?? '')) {
      if (/[rR]/.test(text[position] ?? '')) raw = true;
      position++;
    }
    const quote = text[position];
    if (quote !== "'" && quote !== '"') throw literalError('expected a quote', text, position);
    const triple = text.startsWith(quote.repeat(3), position);
    const delimiter = triple ? quote.repeat(3) : quote;
    position += delimiter.length;
    let result = '';
    while (true) {
      if (position >= text.length) throw literalError('unterminated string', text, position);
      if (text.startsWith(delimiter, position)) {
        position += delimiter.length;
        return result;
      }
      const char = text[position] ?? '';
      if (char === '\n' && !triple) throw literalError('newline in a single-quoted string', text, position);
      if (char !== '\\' || raw) {
        if (char === '\\' && raw) {
          // A raw string still cannot end on a backslash-escaped quote.
          result += text.slice(position, position + 2);
          position += 2;
          continue;
        }
        result += char;
        position++;
        continue;
      }
      const next = text[position + 1] ?? '';
      position += 2;
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        '\\': '\\',
        "'": "'",
        '"': '"',
        a: '\x07',
        b: '\b',
        f: '\f',
        v: '\v',
        '0': '\0',
        '\n': '',
      };
      const mapped = simple[next];
      if (mapped !== undefined) {
        result += mapped;
        continue;
      }
      const hexLength = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
      if (hexLength > 0) {
        const hex = text.slice(position, position + hexLength);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) {
          throw literalError(`bad \\${next} escape`, text, position);
        }
        result += String.fromCodePoint(Number.parseInt(hex, 16));
        position += hexLength;
        continue;
      }
      // Python keeps unknown escapes verbatim.
      result += `\\${next}`;
    }
  };

  const parseValue = (): PythonLiteral => {
    skipSpace();
    const char = text[position];
    if (char === undefined) throw literalError('unexpected end', text, position);
    if (char === '[' || char === '(') return parseSequence(char === '[' ? ']' : ')');
    if (char === '{') return parseDict();
    if (char === "'" || char === '"' || (/[uUrRbB]/.test(char) && /['"uUrRbB]/.test(text[position + 1] ?? ''))) {
      // Adjacent string literals concatenate, as in Python.
      let value = parseString();
      skipSpace();
      while (/['"]/.test(text[position] ?? '')) {
        value += parseString();
        skipSpace();
      }
      return value;
    }
    for (const [word, value] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (text.startsWith(word, position) && !/\w/.test(text[position + word.length] ?? '')) {
        position += word.length;
        return value;
      }
    }
    const number = /^[-+]?(?:\d[\d_]*\.?[\d_]*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)/.exec(text.slice(position));
    if (number) {
      position += number[0].length;
      return Number(number[0].replaceAll('_', ''));
    }
    throw literalError(`unexpected character ${JSON.stringify(char)}`, text, position);
  };

  const parseSequence = (close: string): PythonLiteral[] => {
    position++;
    const items: PythonLiteral[] = [];
    while (true) {
      skipSpace();
      if (text[position] === close) {
        position++;
        return items;
      }
      items.push(parseValue());
      skipSpace();
      if (text[position] === ',') position++;
      else if (text[position] !== close) throw literalError(`expected "," or "${close}"`, text, position);
    }
  };

  const parseDict = (): { [key: string]: PythonLiteral } => {
    position++;
    const result: { [key: string]: PythonLiteral } = {};
    while (true) {
      skipSpace();
      if (text[position] === '}') {
        position++;
        return result;
      }
      const key = parseValue();
      if (typeof key !== 'string' && typeof key !== 'number')
        throw literalError('dict keys must be strings', text, position);
      skipSpace();
      if (text[position] !== ':') throw literalError('expected ":"', text, position);
      position++;
      result[String(key)] = parseValue();
      skipSpace();
      if (text[position] === ',') position++;
      else if (text[position] !== '}') throw literalError('expected "," or "}"', text, position);
    }
  };

  const value = parseValue();
  skipSpace();
  if (position !== text.length) throw literalError('trailing characters', text, position);
  return value;
}

/** A field that may hold a Python literal string or the already-decoded value. */
function pythonOrValue<T extends z.ZodType>(schema: T) {
  return z.preprocess((value, context) => {
    if (typeof value !== 'string') return value;
    try {
      return parsePythonLiteral(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }, schema);
}

const turnSchema = z.object({ speaker: z.string(), text: z.string() });
const contextSchema = z.object({ document_id: z.string().min(1), text: z.string() });

const taskSchema = z.object({
  conversation_id: z.string().min(1),
  task_id: z.string().min(1),
  turn: z.union([z.string(), z.number()]).transform(String),
  Collection: z.string(),
  input: pythonOrValue(z.array(turnSchema)),
  contexts: pythonOrValue(z.array(contextSchema)),
  answerability: pythonOrValue(z.array(z.string()).min(1)),
});

export type MtragAnswerability = 'ANSWERABLE' | 'PARTIAL' | 'UNANSWERABLE' | 'UNDERSPECIFIED' | (string & {});

export interface MtragTask {
  conversationId: string;
  taskId: string;
  turn: string;
  collection: string;
  /** Every turn before the question plus the question (last), with speakers. */
  input: Array<{ speaker: string; text: string }>;
  /** The user turns only, current question last. */
  userTurns: string[];
  contexts: Array<{ documentId: string; text: string }>;
  answerability: MtragAnswerability;
}

export function mtragDir(sharedDir: string): string {
  return join(sharedDir, 'datasets', 'mtrag_un');
}

export function mtragAvailable(sharedDir: string): boolean {
  const dir = mtragDir(sharedDir);
  return (
    existsSync(join(dir, 'generation_tasks', 'reference.jsonl')) &&
    existsSync(join(dir, 'retrieval_tasks', 'qrels', 'cloud.tsv'))
  );
}

export function parseMtragTasks(text: string, file: string): MtragTask[] {
  const tasks: MtragTask[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new AppError('INVALID_JSON', `${file}:${index + 1}: not valid JSON`, { details: { line: index + 1 } });
    }
    const parsed = taskSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new AppError('VALIDATION_FAILED', `${file}:${index + 1}: ${where}${issue?.message ?? 'invalid'}`, {
        details: { line: index + 1, issues: parsed.error.issues.slice(0, 3) },
      });
    }
    const data = parsed.data;
    tasks.push({
      conversationId: data.conversation_id,
      taskId: data.task_id,
      turn: data.turn,
      collection: data.Collection,
      input: data.input.map((turn) => ({ speaker: turn.speaker, text: turn.text })),
      userTurns: data.input.filter((turn) => turn.speaker === 'user').map((turn) => turn.text),
      contexts: data.contexts.map((context) => ({ documentId: context.document_id, text: context.text })),
      answerability: data.answerability[0] ?? 'UNKNOWN',
    });
  });
  return tasks;
}

/** query id -> relevant document ids (score > 0). */
export function parseQrels(text: string, file: string): Map<string, Set<string>> {
  const qrels = new Map<string, Set<string>>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim().length === 0 || (index === 0 && line.startsWith('query-id'))) return;
    const [queryId, corpusId, score] = line.split('\t');
    if (queryId === undefined || corpusId === undefined || score === undefined || Number.isNaN(Number(score))) {
      throw new AppError('VALIDATION_FAILED', `${file}:${index + 1}: expected query-id<TAB>corpus-id<TAB>score`, {
        details: { line: index + 1 },
      });
    }
    if (Number(score) <= 0) return;
    const set = qrels.get(queryId) ?? new Set<string>();
    set.add(corpusId);
    qrels.set(queryId, set);
  });
  return qrels;
}

/** Passages have no titles; the first line is often a heading-like fragment, so the title stays empty. */
export function mtragKnowledgeBase(tasks: MtragTask[]): Article[] {
  const byId = new Map<string, Article>();
  for (const task of tasks) {
    for (const context of task.contexts) {
      if (!byId.has(context.documentId))
        byId.set(context.documentId, { id: context.documentId, title: '', body: context.text });
    }
  }
  return [...byId.values()];
}

/** Deterministic half: the first byte of sha256(conversation_id) decides. */
export function mtragSplit(conversationId: string): 'calibration' | 'report' {
  const first = createHash('sha256').update(conversationId).digest()[0] ?? 0;
  return first < 128 ? 'calibration' : 'report';
}

export interface MtragCloudData {
  tasks: MtragTask[];
  articles: Article[];
  qrels: Map<string, Set<string>>;
  /** Qrel query ids that matched no task (expected: none; ids are `<conversation_id><::><turn>` = task_id). */
  unmatchedQrelIds: string[];
}

export function loadMtragCloud(sharedDir: string): MtragCloudData {
  const dir = mtragDir(sharedDir);
  const tasksFile = join(dir, 'generation_tasks', 'reference.jsonl');
  const qrelsFile = join(dir, 'retrieval_tasks', 'qrels', 'cloud.tsv');
  const tasks = parseMtragTasks(readFileSync(tasksFile, 'utf8'), tasksFile).filter(
    (task) => task.collection === 'ibmcloud',
  );
  const qrels = parseQrels(readFileSync(qrelsFile, 'utf8'), qrelsFile);
  const taskIds = new Set(tasks.map((task) => task.taskId));
  const unmatchedQrelIds = [...qrels.keys()].filter((id) => !taskIds.has(id));
  return { tasks, articles: mtragKnowledgeBase(tasks), qrels, unmatchedQrelIds };
}
