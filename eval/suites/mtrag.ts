/**
 * MTRAG-UN ibmcloud (IBM, Apache-2.0): retrieval recall@k / MRR against the qrels and the
 * answerability gate on ANSWERABLE vs UNANSWERABLE tasks. MTRAG has no train split, so the
 * conversation weights and the gate are calibrated on a deterministic half of the conversations
 * (sha256 of conversation_id) and the headline figures are on the other half; full-set figures are
 * reported too, labelled.
 */

import {
  type ConversationWeights,
  createKnowledgeIndex,
  type KnowledgeIndex,
} from '../../server/triage/knowledge/index.ts';
import { loadMtragCloud, type MtragCloudData, type MtragTask, mtragAvailable, mtragSplit } from '../datasets/mtrag.ts';
import { type RankedQuery, type RetrievalSummary, summarizeRetrieval } from '../metrics/retrieval.ts';
import type { Chart, Suite, SuiteOptions, SuiteResult, Table } from '../types.ts';
import {
  evaluateGateSplit,
  formatWeights,
  type GateSplitResult,
  metricRecord,
  RETRIEVAL_HEADER,
  recallChart,
  retrievalRow,
  round,
  type SplitExample,
  tradeOffChart,
} from './kb-backtest.ts';

const MAX_FALSE_DECLINE = 0.2;

/** Candidates for the conversation weights (the last turn always has weight 1). */
export function conversationWeightGrid(quick: boolean): ConversationWeights[] {
  const previous = quick ? [0, 0.3, 0.5] : [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1];
  const decays = quick ? [0.5] : [0.25, 0.5, 1];
  const depths = quick ? [3] : [1, 3, 8];
  const grid: ConversationWeights[] = [];
  for (const previousTurnWeight of previous) {
    for (const decay of decays) {
      for (const maxPreviousTurns of depths) {
        if (previousTurnWeight === 0 && (decay !== decays[0] || maxPreviousTurns !== depths[0])) continue;
        grid.push({ previousTurnWeight, decay, maxPreviousTurns });
      }
    }
  }
  return grid;
}

function rankedQueries(data: MtragCloudData, tasks: MtragTask[], rank: (task: MtragTask) => string[]): RankedQuery[] {
  return tasks
    .filter((task) => data.qrels.has(task.taskId))
    .map((task) => ({ ranked: rank(task), relevant: data.qrels.get(task.taskId) ?? new Set<string>() }));
}

const conversationRanking = (index: KnowledgeIndex, weights?: ConversationWeights) => (task: MtragTask) =>
  index.searchArticles(task.userTurns, 5, weights).map((hit) => hit.articleId);
const lastTurnRanking = (index: KnowledgeIndex) => (task: MtragTask) =>
  index.searchArticles(task.userTurns.at(-1) ?? '', 5).map((hit) => hit.articleId);

/** Best recall@3 on the calibration half (ties: MRR, then the earlier, simpler candidate). */
export function chooseConversationWeights(
  data: MtragCloudData,
  calibrationTasks: MtragTask[],
  grid: ConversationWeights[],
): { weights: ConversationWeights; summary: RetrievalSummary } {
  let best: { weights: ConversationWeights; summary: RetrievalSummary } | undefined;
  // The weights only change how turn scores are combined, so one index serves the whole grid.
  const index = createKnowledgeIndex(data.articles);
  for (const weights of grid) {
    const summary = summarizeRetrieval(rankedQueries(data, calibrationTasks, conversationRanking(index, weights)));
    const recall = summary.recallAt[3] ?? 0;
    const bestRecall = best?.summary.recallAt[3] ?? -1;
    if (
      best === undefined ||
      recall > bestRecall + 1e-12 ||
      (Math.abs(recall - bestRecall) <= 1e-12 && summary.mrr > best.summary.mrr + 1e-12)
    ) {
      best = { weights, summary };
    }
  }
  if (best === undefined) throw new Error('empty conversation weight grid');
  return best;
}

function gateExamplesFor(tasks: MtragTask[], features: (task: MtragTask) => SplitExample['features']): SplitExample[] {
  return tasks
    .filter((task) => task.answerability === 'ANSWERABLE' || task.answerability === 'UNANSWERABLE')
    .map((task) => ({
      features: features(task),
      answerable: task.answerability === 'ANSWERABLE',
      half: mtragSplit(task.conversationId),
    }));
}

/** The issue's reference point: a threshold on the raw top BM25 score (last turn), same criterion. */
function topScoreBaseline(index: KnowledgeIndex, tasks: MtragTask[]): GateSplitResult {
  const examples = gateExamplesFor(tasks, (task) => ({
    coverage: 0,
    strength: index.search(task.userTurns.at(-1) ?? '', 1)[0]?.score ?? 0,
    margin: 0,
  }));
  return evaluateGateSplit(examples, MAX_FALSE_DECLINE, [{ coverage: 0, strength: 1, margin: 0 }]);
}

export async function runMtrag(options: SuiteOptions): Promise<SuiteResult> {
  const data = loadMtragCloud(options.sharedDir);
  options.progress(
    `${data.tasks.length} ibmcloud tasks, ${data.articles.length} passages in the KB, ${data.qrels.size} tasks with qrels`,
  );
  const calibrationTasks = data.tasks.filter((task) => mtragSplit(task.conversationId) === 'calibration');
  const reportTasks = data.tasks.filter((task) => mtragSplit(task.conversationId) === 'report');

  const chosen = chooseConversationWeights(data, calibrationTasks, conversationWeightGrid(options.quick));
  options.progress(`conversation weights chosen on the calibration half: ${JSON.stringify(chosen.weights)}`);
  const index = createKnowledgeIndex(data.articles, { conversation: chosen.weights });

  const retrieval = {
    report: summarizeRetrieval(rankedQueries(data, reportTasks, conversationRanking(index))),
    full: summarizeRetrieval(rankedQueries(data, data.tasks, conversationRanking(index))),
    calibration: summarizeRetrieval(rankedQueries(data, calibrationTasks, conversationRanking(index))),
    baselineReport: summarizeRetrieval(rankedQueries(data, reportTasks, lastTurnRanking(index))),
    baselineFull: summarizeRetrieval(rankedQueries(data, data.tasks, lastTurnRanking(index))),
  };

  const gate = evaluateGateSplit(
    gateExamplesFor(data.tasks, (task) => index.gateFeatures(task.userTurns)),
    MAX_FALSE_DECLINE,
  );
  const baselineGate = topScoreBaseline(index, data.tasks);

  const tables: Table[] = [
    {
      title: 'MTRAG-UN ibmcloud retrieval (document recall against qrels/cloud.tsv)',
      header: RETRIEVAL_HEADER,
      rows: [
        retrievalRow('conversation query, report half', retrieval.report),
        retrievalRow('last user turn only, report half (baseline)', retrieval.baselineReport),
        retrievalRow('conversation query, calibration half (weights chosen here)', retrieval.calibration),
        retrievalRow('conversation query, FULL set (includes calibration half)', retrieval.full),
        retrievalRow('last user turn only, FULL set (baseline)', retrieval.baselineFull),
      ],
    },
    {
      title: 'Answerability gate (ANSWERABLE vs UNANSWERABLE tasks; threshold from the calibration half)',
      header: [
        'gate',
        'set',
        'answerable',
        'unanswerable',
        'decline rate (unanswerable)',
        'false decline rate (answerable)',
        'threshold',
      ],
      rows: [
        ...gateRows(`gate: ${formatWeights(gate.calibration.config.weights)}`, gate),
        ...gateRows('baseline: raw top BM25 score, last turn', baselineGate),
      ],
    },
  ];
  const charts: Chart[] = [
    recallChart('MTRAG ibmcloud recall@k, report half', [
      { name: 'last user turn only', summary: retrieval.baselineReport },
      { name: 'conversation query', summary: retrieval.report },
    ]),
    tradeOffChart('MTRAG ibmcloud gate trade-off, report half', gate),
  ];
  const answerabilityCounts = new Map<string, number>();
  for (const task of data.tasks)
    answerabilityCounts.set(task.answerability, (answerabilityCounts.get(task.answerability) ?? 0) + 1);
  const notes = [
    'Data: MTRAG-UN (IBM, Apache-2.0), generation_tasks/reference.jsonl collection ibmcloud, qrels retrieval_tasks/qrels/cloud.tsv.',
    `KB: union of the ibmcloud tasks' contexts passages, deduplicated by document_id: ${data.articles.length} passages (one article each; no titles).`,
    `Qrels query ids are "<conversation_id><::><turn>", identical to task_id: ${data.qrels.size} of ${data.qrels.size} matched a task (${data.unmatchedQrelIds.length} unmatched). Tasks with qrels are ANSWERABLE or PARTIAL; recall/MRR are averaged over them.`,
    `Answerability labels: ${[...answerabilityCounts.entries()].map(([label, count]) => `${label} ${count}`).join(', ')}; the gate is measured on ANSWERABLE vs UNANSWERABLE only.`,
    `Halves: first byte of sha256(conversation_id) < 128 is the calibration half (${calibrationTasks.length} tasks), the rest the report half (${reportTasks.length}); each conversation has one task. Headline metrics are on the report half.`,
    `Conversation query: BM25 of the last user turn plus earlier user turns at weight ${chosen.weights.previousTurnWeight} (x${chosen.weights.decay} per older turn, up to ${chosen.weights.maxPreviousTurns}); chosen by recall@3 on the calibration half from ${conversationWeightGrid(options.quick).length} candidates.`,
    `Gate: ${formatWeights(gate.calibration.config.weights)} >= ${round(gate.calibration.config.threshold, 4)} answers; criterion: ${gate.calibration.config.calibration}.`,
    'Recall@k counts distinct documents in the top k; recall@1 cannot reach 1 when a task has several relevant documents.',
    ...(options.quick ? ['Quick run: smaller weight grid; figures may differ from a full run.'] : []),
  ];
  return {
    suite: 'mtrag',
    metrics: metricRecord({
      recall_at_1: retrieval.report.recallAt[1] ?? null,
      recall_at_3: retrieval.report.recallAt[3] ?? null,
      recall_at_5: retrieval.report.recallAt[5] ?? null,
      mrr: retrieval.report.mrr,
      unanswerable_decline_rate: gate.report.declineRate,
      answerable_false_decline_rate: gate.report.falseDeclineRate,
      full_recall_at_1: retrieval.full.recallAt[1] ?? null,
      full_recall_at_3: retrieval.full.recallAt[3] ?? null,
      full_recall_at_5: retrieval.full.recallAt[5] ?? null,
      full_mrr: retrieval.full.mrr,
      full_unanswerable_decline_rate: gate.full.declineRate,
      full_answerable_false_decline_rate: gate.full.falseDeclineRate,
      baseline_last_turn_recall_at_3: retrieval.baselineReport.recallAt[3] ?? null,
      baseline_top_score_decline_rate: baselineGate.report.declineRate,
      baseline_top_score_false_decline_rate: baselineGate.report.falseDeclineRate,
      gate_threshold: gate.calibration.config.threshold,
    }),
    tables,
    charts,
    notes,
  };
}

function gateRows(label: string, result: GateSplitResult): Array<Array<string | number>> {
  const threshold = round(result.calibration.config.threshold, 4);
  return [
    [
      label,
      'calibration half',
      result.calibration.answerableCount,
      result.calibration.unanswerableCount,
      round(result.calibration.declineRate),
      round(result.calibration.falseDeclineRate),
      threshold,
    ],
    [
      label,
      'report half',
      result.report.answerable,
      result.report.unanswerable,
      round(result.report.declineRate),
      round(result.report.falseDeclineRate),
      threshold,
    ],
    [
      label,
      'FULL set (includes calibration half)',
      result.full.answerable,
      result.full.unanswerable,
      round(result.full.declineRate),
      round(result.full.falseDeclineRate),
      threshold,
    ],
  ];
}

export const suite: Suite = {
  name: 'mtrag',
  description: 'MTRAG-UN ibmcloud: retrieval recall@1/3/5 and MRR against qrels; answerability gate decline rates',
  available: (options) => mtragAvailable(options.sharedDir),
  run: runMtrag,
};
