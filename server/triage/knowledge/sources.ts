/**
 * Knowledge-base sources: a folder of Markdown articles with YAML front matter, or a JSONL file of
 * `{"id","title","body","url"?}` lines. Everything is validated at this edge; errors name the file
 * (and line) so an admin can fix the source.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { Article } from '../types.ts';

const idSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^#\s]+$/, 'must not contain spaces or "#"');

/** Front matter dates may be YAML dates (parsed to Date) or strings; both become ISO strings. */
const dateSchema = z.union([z.date(), z.string().min(1)]).transform((value, context) => {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    context.addIssue({ code: 'custom', message: `not a date: ${String(value)}` });
    return z.NEVER;
  }
  return date.toISOString();
});

const frontMatterSchema = z.object({
  id: z.union([idSchema, z.number().transform(String)]),
  title: z.string().trim().min(1),
  url: z.url().optional(),
  product_area: z.string().trim().min(1).optional(),
  updated_at: dateSchema.optional(),
  reviewed_at: dateSchema.optional(),
});

const jsonlArticleSchema = z.object({
  id: z.union([idSchema, z.number().transform(String)]),
  title: z.string().trim().min(1),
  body: z.string().trim().min(1),
  url: z.url().optional(),
  product_area: z.string().trim().min(1).optional(),
  updated_at: dateSchema.optional(),
  reviewed_at: dateSchema.optional(),
});

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError('VALIDATION_FAILED', message, { details });
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

/** Parses one Markdown article; `file` only labels errors. */
export function parseMarkdownArticle(text: string, file: string): Article {
  const source = text.replace(/^\uFEFF/, '');
  const match = FRONT_MATTER.exec(source);
  if (!match) throw invalid(`${file}:1: missing YAML front matter (a block between "---" lines)`, { file, line: 1 });
  let data: unknown;
  try {
    data = parseYaml(match[1] ?? '');
  } catch (error) {
    // The yaml package reports line numbers relative to the block; the block starts on line 2.
    const linePos = (error as { linePos?: Array<{ line: number }> }).linePos;
    const line = (linePos?.[0]?.line ?? 0) + 1;
    throw invalid(`${file}:${line}: front matter is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
      file,
      line,
    });
  }
  const parsed = frontMatterSchema.safeParse(data);
  if (!parsed.success) {
    throw invalid(`${file}: invalid front matter: ${describeIssues(parsed.error)}`, { file, line: 1 });
  }
  const body = source.slice(match[0].length).trim();
  if (body.length === 0) throw invalid(`${file}: the article body is empty`, { file });
  return toArticle({ ...parsed.data, body });
}

function toArticle(data: z.infer<typeof jsonlArticleSchema>): Article {
  const article: Article = { id: data.id, title: data.title, body: data.body };
  if (data.url !== undefined) article.url = data.url;
  if (data.product_area !== undefined) article.productArea = data.product_area;
  if (data.updated_at !== undefined) article.updatedAt = data.updated_at;
  if (data.reviewed_at !== undefined) article.reviewedAt = data.reviewed_at;
  return article;
}

/**
 * Calls `visit` with each non-blank line of a JSONL text, parsed, and its 1-based line number; a line
 * that is not JSON is an INVALID_JSON error naming the file and line. A leading BOM is ignored.
 */
export function forEachJsonLine(text: string, file: string, visit: (value: unknown, lineNumber: number) => void): void {
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, index) => {
      if (line.trim().length === 0) return;
      const lineNumber = index + 1;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new AppError('INVALID_JSON', `${file}:${lineNumber}: not valid JSON`, {
          details: { file, line: lineNumber },
        });
      }
      visit(value, lineNumber);
    });
}

/** Parses JSONL article lines; blank lines are skipped, anything else must be a valid article. */
export function parseJsonlArticles(text: string, file: string): Article[] {
  const articles: Article[] = [];
  forEachJsonLine(text, file, (value, lineNumber) => {
    const parsed = jsonlArticleSchema.safeParse(value);
    if (!parsed.success) {
      throw invalid(`${file}:${lineNumber}: invalid article: ${describeIssues(parsed.error)}`, {
        file,
        line: lineNumber,
      });
    }
    articles.push(toArticle(parsed.data));
  });
  return articles;
}

/** Ids must be unique across a source: a duplicate would silently shadow an article. */
export function assertUniqueIds(articles: Article[], source: string): void {
  const seen = new Set<string>();
  for (const article of articles) {
    if (seen.has(article.id)) {
      throw new AppError('CONFLICT', `${source}: duplicate article id "${article.id}"`, {
        details: { source, id: article.id },
      });
    }
    seen.add(article.id);
  }
}

/** Reads every `*.md` file directly in `dir` (sorted, so the order is stable). */
export function loadMarkdownFolder(dir: string): Article[] {
  const files = readdirSync(dir)
    .filter((name) => extname(name).toLowerCase() === '.md' && basename(name).toLowerCase() !== 'readme.md')
    .sort();
  const articles = files.map((name) => {
    const path = join(dir, name);
    return parseMarkdownArticle(readFileSync(path, 'utf8'), path);
  });
  assertUniqueIds(articles, dir);
  return articles;
}

export function loadJsonlFile(path: string): Article[] {
  const articles = parseJsonlArticles(readFileSync(path, 'utf8'), path);
  assertUniqueIds(articles, path);
  return articles;
}

/** A folder of Markdown articles or a JSONL file, decided by what the path is. */
export function loadArticles(path: string): Article[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new AppError('NOT_FOUND', `knowledge source not found: ${path}`, { details: { path } });
  }
  if (isDirectory) return loadMarkdownFolder(path);
  if (/\.jsonl?$/i.test(path)) return loadJsonlFile(path);
  if (/\.md$/i.test(path)) return [parseMarkdownArticle(readFileSync(path, 'utf8'), path)];
  throw new AppError('BAD_REQUEST', `unsupported knowledge source (expected a folder, .jsonl or .md): ${path}`, {
    details: { path },
  });
}
