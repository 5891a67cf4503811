import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../server/errors.ts';
import { loadArticles, parseJsonlArticles, parseMarkdownArticle } from '../../server/triage/knowledge/sources.ts';

const SAMPLE_KB = fileURLToPath(new URL('../../samples/kb', import.meta.url));

function catchError(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

const GOOD = `---
id: reset-password
title: "Reset your password"
url: https://help.tandem.example/articles/reset-password
product_area: account
updated_at: 2026-10-02
reviewed_at: 2026-11-03T10:00:00Z
---

# Reset your password

Click **Forgot password?** on the sign-in page.
`;

describe('parseMarkdownArticle', () => {
  it('reads the front matter fields into an Article', () => {
    const article = parseMarkdownArticle(GOOD, 'reset.md');
    expect(article).toEqual({
      id: 'reset-password',
      title: 'Reset your password',
      url: 'https://help.tandem.example/articles/reset-password',
      productArea: 'account',
      updatedAt: '2026-10-02T00:00:00.000Z',
      reviewedAt: '2026-11-03T10:00:00.000Z',
      body: '# Reset your password\n\nClick **Forgot password?** on the sign-in page.',
    });
  });

  it('accepts CRLF line endings and a byte-order mark', () => {
    const article = parseMarkdownArticle(`\uFEFF${GOOD.replaceAll('\n', '\r\n')}`, 'crlf.md');
    expect(article.id).toBe('reset-password');
    expect(article.body.startsWith('# Reset your password')).toBe(true);
  });

  it('rejects a file without front matter, naming the file', () => {
    const error = catchError(() => parseMarkdownArticle('# Just a heading\n\ntext', 'kb/plain.md'));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('kb/plain.md:1');
    expect(error.message).toContain('front matter');
  });

  it('reports invalid YAML with the file line', () => {
    const text = '---\nid: a\ntitle: [unclosed\n---\nbody';
    const error = catchError(() => parseMarkdownArticle(text, 'kb/bad-yaml.md'));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/kb\/bad-yaml\.md:\d+: front matter is not valid YAML/);
    expect((error.details as { line: number }).line).toBeGreaterThanOrEqual(2);
  });

  it('names the missing or invalid fields', () => {
    const missingTitle = catchError(() => parseMarkdownArticle('---\nid: a\n---\nbody', 'a.md'));
    expect(missingTitle.message).toContain('a.md');
    expect(missingTitle.message).toContain('title');
    const badUrl = catchError(() => parseMarkdownArticle('---\nid: a\ntitle: A\nurl: not a url\n---\nbody', 'b.md'));
    expect(badUrl.message).toContain('url');
    const badDate = catchError(() =>
      parseMarkdownArticle('---\nid: a\ntitle: A\nreviewed_at: someday\n---\nbody', 'c.md'),
    );
    expect(badDate.message).toContain('reviewed_at');
    const badId = catchError(() => parseMarkdownArticle('---\nid: "a b"\ntitle: A\n---\nbody', 'd.md'));
    expect(badId.message).toContain('id');
  });

  it('rejects an empty body', () => {
    const error = catchError(() => parseMarkdownArticle('---\nid: a\ntitle: A\n---\n\n  \n', 'empty.md'));
    expect(error.message).toContain('empty.md');
    expect(error.message).toContain('empty');
  });
});

describe('parseJsonlArticles', () => {
  it('parses lines and skips blank ones', () => {
    const text =
      '{"id":"a","title":"A","body":"Alpha text"}\n\n{"id":7,"title":"B","body":"Beta","url":"https://x.example/b"}\n';
    expect(parseJsonlArticles(text, 'kb.jsonl')).toEqual([
      { id: 'a', title: 'A', body: 'Alpha text' },
      { id: '7', title: 'B', body: 'Beta', url: 'https://x.example/b' },
    ]);
  });

  it('names the file and line of bad JSON and of invalid articles', () => {
    const badJson = catchError(() => parseJsonlArticles('{"id":"a","title":"A","body":"x"}\n{oops', 'kb.jsonl'));
    expect(badJson.code).toBe('INVALID_JSON');
    expect(badJson.message).toContain('kb.jsonl:2');
    const missingBody = catchError(() => parseJsonlArticles('\n{"id":"a","title":"A"}', 'kb.jsonl'));
    expect(missingBody.code).toBe('VALIDATION_FAILED');
    expect(missingBody.message).toContain('kb.jsonl:2');
    expect(missingBody.message).toContain('body');
  });
});

describe('loadArticles', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('loads a JSONL file and rejects duplicate ids', () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-'));
    const file = join(dir, 'kb.jsonl');
    writeFileSync(file, '{"id":"a","title":"A","body":"x"}\n{"id":"a","title":"A2","body":"y"}\n');
    const error = catchError(() => loadArticles(file));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('"a"');
  });

  it('names the bad file in a Markdown folder', () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-'));
    writeFileSync(join(dir, 'good.md'), GOOD);
    writeFileSync(join(dir, 'broken.md'), 'no front matter');
    const error = catchError(() => loadArticles(dir as string));
    expect(error.message).toContain('broken.md');
  });

  it('reports a missing source and an unsupported file type', () => {
    expect(catchError(() => loadArticles('/definitely/not/here')).code).toBe('NOT_FOUND');
    dir = mkdtempSync(join(tmpdir(), 'kb-'));
    writeFileSync(join(dir, 'kb.csv'), 'id,title');
    expect(catchError(() => loadArticles(join(dir as string, 'kb.csv'))).code).toBe('BAD_REQUEST');
  });

  it('loads the sample KB: at least 30 articles with help-center urls and dates', () => {
    const articles = loadArticles(SAMPLE_KB);
    expect(articles.length).toBeGreaterThanOrEqual(30);
    for (const article of articles) {
      expect(article.url).toBe(`https://help.tandem.example/articles/${article.id}`);
      expect(article.productArea).toBeTruthy();
      expect(article.reviewedAt).toBeTruthy();
      expect(article.updatedAt).toBeTruthy();
    }
  });
});
