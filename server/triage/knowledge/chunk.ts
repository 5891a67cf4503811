/**
 * Splits articles into passages for retrieval and for the context budget: sections by Markdown
 * heading, packed paragraph by paragraph up to a target size, never above a hard cap (in estimated
 * tokens, title included, because the title travels with every passage).
 */
import { AppError } from '../../errors.ts';
import type { Article } from '../types.ts';
import { estimateTokens } from './text.ts';

export interface ChunkOptions {
  /** Passages are packed up to about this size. */
  targetTokens: number;
  /** No passage (title line included) exceeds this. */
  maxTokens: number;
}

export const DEFAULT_CHUNK_OPTIONS: ChunkOptions = { targetTokens: 400, maxTokens: 800 };

export interface Passage {
  /** `${articleId}#${index}` */
  passageId: string;
  articleId: string;
  index: number;
  title: string;
  /** The section heading the passage came from, if any (also at the start of `text`). */
  heading?: string;
  text: string;
  tokens: number;
}

interface Section {
  heading?: string;
  paragraphs: string[];
}

const HEADING = /^#{1,6}\s+(.+?)\s*#*\s*$/;

/** Sections by heading; paragraphs split on blank lines (list items of one list stay together). */
export function splitSections(body: string): Section[] {
  const sections: Section[] = [];
  let current: Section = { paragraphs: [] };
  let paragraph: string[] = [];
  const flushParagraph = (): void => {
    const text = paragraph.join('\n').trim();
    if (text.length > 0) current.paragraphs.push(text);
    paragraph = [];
  };
  for (const line of body.split(/\r?\n/)) {
    const heading = HEADING.exec(line);
    if (heading) {
      flushParagraph();
      if (current.paragraphs.length > 0 || current.heading !== undefined) sections.push(current);
      current = { heading: heading[1] ?? '', paragraphs: [] };
    } else if (line.trim().length === 0) {
      flushParagraph();
    } else {
      paragraph.push(line);
    }
  }
  flushParagraph();
  if (current.paragraphs.length > 0 || current.heading !== undefined) sections.push(current);
  return sections.filter((section) => section.paragraphs.length > 0);
}

/** Sentences, then words: the fallback for a paragraph larger than the cap. */
function splitOversized(text: string, budget: number): string[] {
  const pieces: string[] = [];
  const sentences = text.split(/(?<=[.!?])\s+/);
  let buffer = '';
  const pushWords = (sentence: string): void => {
    let part = '';
    for (const word of sentence.split(/\s+/)) {
      const candidate = part.length > 0 ? `${part} ${word}` : word;
      if (estimateTokens(candidate) > budget && part.length > 0) {
        pieces.push(part);
        part = word;
      } else {
        part = candidate;
      }
    }
    if (part.length > 0) buffer = part;
  };
  for (const sentence of sentences) {
    const candidate = buffer.length > 0 ? `${buffer} ${sentence}` : sentence;
    if (estimateTokens(candidate) <= budget) {
      buffer = candidate;
      continue;
    }
    if (buffer.length > 0) pieces.push(buffer);
    buffer = '';
    if (estimateTokens(sentence) <= budget) buffer = sentence;
    else pushWords(sentence);
  }
  if (buffer.length > 0) pieces.push(buffer);
  return pieces;
}

function validate(options: ChunkOptions): void {
  if (!(options.maxTokens >= 20) || !(options.targetTokens >= 1) || options.targetTokens > options.maxTokens) {
    throw new AppError('CONFIG_INVALID', 'chunk options need 1 <= targetTokens <= maxTokens and maxTokens >= 20', {
      details: options,
    });
  }
}

export function chunkArticle(article: Article, options: ChunkOptions = DEFAULT_CHUNK_OPTIONS): Passage[] {
  validate(options);
  // The title line ("Title\n") is part of what a passage costs in a prompt.
  const budget = options.maxTokens - estimateTokens(`${article.title}\n`);
  if (budget < 10) {
    throw new AppError('VALIDATION_FAILED', `article ${article.id}: title too long for maxTokens`, {
      details: { id: article.id },
    });
  }
  const target = Math.min(options.targetTokens, budget);
  const texts: Array<{ heading?: string; text: string }> = [];
  for (const section of splitSections(article.body)) {
    const prefix = section.heading !== undefined ? `${section.heading}\n` : '';
    const room = budget - estimateTokens(prefix);
    let buffer = '';
    const flush = (): void => {
      if (buffer.length === 0) return;
      texts.push({ ...(section.heading !== undefined ? { heading: section.heading } : {}), text: prefix + buffer });
      buffer = '';
    };
    const units = section.paragraphs.flatMap((paragraph) =>
      estimateTokens(paragraph) > room ? splitOversized(paragraph, room) : [paragraph],
    );
    for (const unit of units) {
      const candidate = buffer.length > 0 ? `${buffer}\n\n${unit}` : unit;
      const size = estimateTokens(prefix + candidate);
      if (buffer.length > 0 && (size > target || size > budget)) {
        flush();
        buffer = unit;
      } else {
        buffer = candidate;
      }
    }
    flush();
  }
  return texts.map((entry, index) => ({
    passageId: `${article.id}#${index}`,
    articleId: article.id,
    index,
    title: article.title,
    ...(entry.heading !== undefined ? { heading: entry.heading } : {}),
    text: entry.text,
    tokens: estimateTokens(`${article.title}\n${entry.text}`),
  }));
}
