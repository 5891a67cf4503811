import type { GateConfig } from './gate.ts';

/** Placeholder until calibrated on the sample KB questions. */
export const DEFAULT_GATE: GateConfig = {
  weights: { coverage: 1, strength: 0, margin: 0 },
  threshold: 0.5,
  calibration: 'placeholder',
};
