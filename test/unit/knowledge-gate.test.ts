import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gateExamples, parseQuestions } from '../../eval/suites/kb-backtest.ts';
import { DEFAULT_GATE } from '../../server/triage/knowledge/default-gate.ts';
import { calibrateGate, evaluateGate, type GateFeatures, gateScore } from '../../server/triage/knowledge/gate.ts';
import { createKnowledgeIndex } from '../../server/triage/knowledge/index.ts';
import { loadArticles } from '../../server/triage/knowledge/sources.ts';

const only = (strength: number): GateFeatures => ({ coverage: 0, strength, margin: 0 });
const STRENGTH = [{ coverage: 0, strength: 1, margin: 0 }];

describe('calibrateGate', () => {
  it('maximises declines within the false-decline limit and settles in the gap', () => {
    const examples = [
      ...[0.5, 0.6, 0.7, 0.8, 0.9].map((value) => ({ features: only(value), answerable: true })),
      ...[0.1, 0.2, 0.55, 0.75].map((value) => ({ features: only(value), answerable: false })),
    ];
    // One of five answerable (0.2) may be declined: the edge is 0.6, declining 0.1, 0.2, 0.55;
    // the threshold then settles between 0.55 and the next answerable score 0.6.
    const result = calibrateGate(examples, { maxFalseDecline: 0.2, weightCandidates: STRENGTH });
    expect(result.config.threshold).toBeCloseTo(0.575, 10);
    expect(result.declineRate).toBeCloseTo(3 / 4, 10);
    expect(result.falseDeclineRate).toBeCloseTo(1 / 5, 10);
    // With no false declines allowed, only what is below the lowest answerable score goes.
    const strict = calibrateGate(examples, { maxFalseDecline: 0, weightCandidates: STRENGTH });
    expect(strict.falseDeclineRate).toBe(0);
    expect(strict.declineRate).toBeCloseTo(2 / 4, 10);
    expect(strict.config.threshold).toBeCloseTo(0.35, 10);
  });

  it('picks the weighting that separates the classes', () => {
    const examples = [
      { features: { coverage: 0.9, strength: 0.3, margin: 0.5 }, answerable: true },
      { features: { coverage: 0.8, strength: 0.2, margin: 0.5 }, answerable: true },
      { features: { coverage: 0.2, strength: 0.3, margin: 0.5 }, answerable: false },
      { features: { coverage: 0.1, strength: 0.2, margin: 0.5 }, answerable: false },
    ];
    const result = calibrateGate(examples, { maxFalseDecline: 0 });
    expect(result.declineRate).toBe(1);
    expect(result.falseDeclineRate).toBe(0);
    expect(result.config.weights.coverage).toBeGreaterThan(0);
    expect(evaluateGate(examples, result.config.weights, result.config.threshold)).toEqual({
      declineRate: 1,
      falseDeclineRate: 0,
    });
  });

  it('needs both classes', () => {
    expect(() => calibrateGate([{ features: only(1), answerable: true }])).toThrow(/both/);
  });
});

describe('the product default gate', () => {
  it('is what calibration on the sample questions produces', () => {
    const root = new URL('../../samples/kb/', import.meta.url);
    const index = createKnowledgeIndex(loadArticles(fileURLToPath(root)));
    const questionsPath = fileURLToPath(new URL('questions.jsonl', root));
    const questions = parseQuestions(readFileSync(questionsPath, 'utf8'), questionsPath);
    expect(questions.filter((question) => question.answerable).length).toBeGreaterThanOrEqual(40);
    expect(questions.filter((question) => !question.answerable).length).toBeGreaterThanOrEqual(20);
    const calibrated = calibrateGate(gateExamples(index, questions), { maxFalseDecline: 0.2 });
    const hint = `recalibrated: ${JSON.stringify(calibrated.config)}`;
    expect(calibrated.config.weights, hint).toEqual(DEFAULT_GATE.weights);
    expect(Math.abs(calibrated.config.threshold - DEFAULT_GATE.threshold), hint).toBeLessThan(1e-3);
    // And on those questions it meets the product criterion.
    const rates = evaluateGate(gateExamples(index, questions), DEFAULT_GATE.weights, DEFAULT_GATE.threshold);
    expect(rates.falseDeclineRate).toBeLessThanOrEqual(0.2);
    expect(rates.declineRate).toBeGreaterThanOrEqual(0.5);
    expect(gateScore({ coverage: 1, strength: 1, margin: 1 }, DEFAULT_GATE.weights)).toBeCloseTo(1, 10);
  });
});
