import type { GateConfig } from './gate.ts';

/**
 * The product's default answerability gate, calibrated with `calibrateGate` (criterion: maximise
 * the decline rate on unanswerable questions with at most 0.2 false declines on answerable ones,
 * then the fewest false declines) on all 70 questions of samples/kb/questions.jsonl (49
 * answerable, 21 unanswerable) against the sample KB in samples/kb. On those questions it declines
 * 21/21 unanswerable and 3/49 answerable (optimistic: the questions were written alongside the KB).
 * test/unit/knowledge-gate.test.ts recomputes it and fails when the samples or the features change,
 * printing the new values to paste here. On MTRAG ibmcloud the same weights calibrate to a similar
 * threshold (0.745), which suggests the scale carries over between knowledge bases; tenants should
 * still calibrate on their own questions (`npm run eval -- --kb ... --questions ...`).
 */
export const DEFAULT_GATE: GateConfig = {
  weights: { coverage: 0.25, strength: 0.75, margin: 0 },
  threshold: 0.6899,
  calibration:
    'max decline on unanswerable s.t. false decline <= 0.2 on answerable, then fewest false declines; ' +
    'samples/kb/questions.jsonl (49 answerable + 21 unanswerable)',
};
