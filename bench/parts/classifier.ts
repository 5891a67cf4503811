/**
 * Figure 4a, the local classifier: training time on CLINC150's train split (15,000 examples plus
 * the 100 out-of-scope ones, validation from val + oos_val) when ../shared is present, otherwise
 * on the shipped samples; then per-call latency of classify() on the test texts.
 */
import { clinc150Available, loadClinc150 } from '../../eval/datasets/clinc150.ts';
import { createLocalClassifier, trainIntentModel } from '../../server/triage/classifier/index.ts';
import { defaultTrainingExamples } from '../../server/triage/models.ts';
import type { LabelledExample } from '../../server/triage/types.ts';
import { progress } from '../lib/progress.ts';
import { type LatencySummary, summarize } from '../lib/stats.ts';

export interface ClassifierResult {
  source: 'clinc150' | 'samples';
  trainExamples: number;
  trainSeconds: number;
  classify: LatencySummary;
  /** Training on 15,000 long tickets built from the same data (full runs only). */
  long?: { examples: number; meanWords: number; trainSeconds: number };
}

/**
 * Tickets are longer than CLINC150's queries: 15,000 examples made by joining `parts` training texts of
 * one label (out-of-scope ones with each other), so each keeps its label, with validation carved out.
 */
export function longTickets(train: readonly LabelledExample[], count = 15_000, parts = 9): LabelledExample[] {
  const byLabel = new Map<string, string[]>();
  for (const example of train) byLabel.set(example.label, [...(byLabel.get(example.label) ?? []), example.text]);
  const groups = [...byLabel.entries()];
  const tickets: LabelledExample[] = [];
  for (let round = 0; tickets.length < count; round += 1) {
    for (const [label, texts] of groups) {
      if (tickets.length >= count) break;
      const joined = Array.from({ length: parts }, (_, part) => texts[(round * parts + part * 7) % texts.length]);
      tickets.push({ text: joined.join(' '), label });
    }
  }
  return tickets;
}

function data(sharedDir: string, useClinc: boolean) {
  if (useClinc && clinc150Available(sharedDir)) {
    const clinc = loadClinc150(sharedDir);
    return {
      source: 'clinc150' as const,
      train: [...clinc.train, ...clinc.oosTrain],
      validation: [...clinc.val, ...clinc.oosVal],
      test: [...clinc.test, ...clinc.oosTest],
    };
  }
  const samples = defaultTrainingExamples();
  return { source: 'samples' as const, train: samples.train, validation: samples.validation, test: samples.validation };
}

export function measureClassifier(args: {
  sharedDir: string;
  useClinc: boolean;
  classifyCount: number;
  longTickets?: boolean;
}): ClassifierResult {
  const { source, train, validation, test } = data(args.sharedDir, args.useClinc);
  progress(`classifier: training on ${source} (${train.length} examples)`);
  const started = performance.now();
  const model = trainIntentModel(train, { validation });
  const trainSeconds = (performance.now() - started) / 1000;
  const classifier = createLocalClassifier(model);
  const texts = test.map((example: LabelledExample) => example.text);
  for (let index = 0; index < Math.min(200, texts.length); index += 1) classifier.classify(texts[index] as string);
  const samples: number[] = [];
  for (let index = 0; index < args.classifyCount; index += 1) {
    const text = texts[index % texts.length] as string;
    const begun = performance.now();
    classifier.classify(text);
    samples.push(performance.now() - begun);
  }
  const classify = summarize(samples);
  progress(`classifier: trained in ${trainSeconds.toFixed(1)} s; classify p99 ${classify.p99.toFixed(3)} ms`);
  if (!args.longTickets) return { source, trainExamples: train.length, trainSeconds, classify };
  const tickets = longTickets(train);
  const meanWords = tickets.reduce((sum, ticket) => sum + ticket.text.split(/\s+/).length, 0) / tickets.length;
  progress(`classifier: training on ${tickets.length} long tickets (${meanWords.toFixed(0)} words on average)`);
  const begun = performance.now();
  trainIntentModel(tickets);
  const long = { examples: tickets.length, meanWords, trainSeconds: (performance.now() - begun) / 1000 };
  progress(`classifier: long tickets trained in ${long.trainSeconds.toFixed(1)} s`);
  return { source, trainExamples: train.length, trainSeconds, classify, long };
}
