import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIntentsBacktestSuite, parseIntentJsonl, tier0Decisions } from '../../eval/suites/intents-backtest.ts';
import { AppError } from '../../server/errors.ts';
import {
  chooseOosThreshold,
  fitTemperature,
  negativeLogLikelihood,
  normalQuantile,
  oosOperatingPoint,
  wilsonLowerBound,
} from '../../server/triage/classifier/calibration.ts';
import { createLocalClassifier, defaultModelRecipe, loadDefaultModel } from '../../server/triage/classifier/index.ts';
import {
  carveValidation,
  DEFAULT_MIN_OOS_RECALL,
  DEFAULT_OOS_RECALL_CONFIDENCE,
  deserializeModel,
  inScopeScoreOf,
  isOutOfScope,
  MODEL_VERSION,
  predict,
  serializeModel,
  trainIntentModel,
} from '../../server/triage/classifier/model.ts';
import { seededRandom } from '../../server/triage/classifier/random.ts';
import { classificationSchema, DEFAULT_INTENTS, type LabelledExample } from '../../server/triage/types.ts';

/** Three intents with distinct vocabularies plus shared filler words, generated deterministically. */
function syntheticExamples(count: number, seed: number): LabelledExample[] {
  const vocabulary: Record<string, string[]> = {
    weather: ['rain', 'sunny', 'forecast', 'cloudy', 'temperature', 'storm'],
    music: ['song', 'playlist', 'guitar', 'album', 'concert', 'singer'],
    food: ['pizza', 'recipe', 'dinner', 'pasta', 'restaurant', 'salad'],
  };
  const filler = ['please', 'tell', 'me', 'about', 'the', 'today', 'what', 'is', 'a', 'good'];
  const random = seededRandom(seed);
  const pick = (words: string[]) => words[Math.floor(random() * words.length)]!;
  const labels = Object.keys(vocabulary);
  return Array.from({ length: count }, (_, index) => {
    const label = labels[index % labels.length]!;
    const words = [pick(filler), pick(vocabulary[label]!), pick(filler), pick(vocabulary[label]!), pick(filler)];
    return { text: words.join(' '), label };
  });
}

describe('intent model on synthetic data', () => {
  const train = syntheticExamples(300, 1);
  const validation = syntheticExamples(60, 2);
  const model = trainIntentModel(train, { validation, epochs: 6, hiddenEpochs: 20 });

  it('learns the labels and predicts held-out examples', () => {
    const test = syntheticExamples(90, 3);
    const correct = test.filter((example) => predict(model, example.text).label === example.label).length;
    expect(model.labels).toEqual(['food', 'music', 'weather']);
    expect(correct / test.length).toBeGreaterThan(0.95);
    const prediction = predict(model, 'what is the forecast, rain or sunny?');
    expect(prediction.label).toBe('weather');
    expect(prediction.ranked).toHaveLength(3);
    expect(prediction.ranked.reduce((sum, entry) => sum + entry.confidence, 0)).toBeCloseTo(1, 5);
  });

  it('is deterministic for the same data and seed', () => {
    const again = trainIntentModel(train, { validation, epochs: 6, hiddenEpochs: 20 });
    expect(Buffer.from(again.weights.buffer).equals(Buffer.from(model.weights.buffer))).toBe(true);
    expect(Buffer.from(again.hidden!.inputWeights.buffer).equals(Buffer.from(model.hidden!.inputWeights.buffer))).toBe(
      true,
    );
  });

  it('averages a hidden-layer network with the linear model unless hiddenUnits is 0', () => {
    expect(model.hidden?.size).toBe(128);
    expect(model.metadata.hiddenUnits).toBe(128);
    const linear = trainIntentModel(train, { validation, epochs: 6, hiddenEpochs: 20, hiddenUnits: 0 });
    expect(linear.hidden).toBeUndefined();
    expect(linear.metadata.hiddenUnits).toBe(0);
    const test = syntheticExamples(90, 3);
    const correct = test.filter((example) => predict(linear, example.text).label === example.label).length;
    expect(correct / test.length).toBeGreaterThan(0.95);
    // The ensemble's scores differ from the linear model's alone.
    expect(predict(model, 'rain and a song').ranked).not.toEqual(predict(linear, 'rain and a song').ranked);
    expect(() => trainIntentModel(train, { validation, hiddenUnits: -1 })).toThrow(/hiddenUnits/);
    expect(() => trainIntentModel(train, { validation, hiddenUnits: 2.5 })).toThrow(AppError);
  });

  it('round-trips through JSON with identical predictions', () => {
    const json = JSON.stringify(serializeModel(model));
    const restored = deserializeModel(json);
    for (const example of syntheticExamples(30, 4)) {
      expect(predict(restored, example.text)).toEqual(predict(model, example.text));
    }
    expect(restored.metadata.trainExamples).toBe(300);
    expect(restored.oosThreshold).toBe(model.oosThreshold);
  });

  it('rejects a corrupt or foreign model JSON with a clear error', () => {
    const serialized = serializeModel(model);
    expect(() => deserializeModel('{not json')).toThrow(AppError);
    expect(() => deserializeModel({ ...serialized, version: 999 })).toThrow(/version/);
    expect(() => deserializeModel({ ...serialized, weights: 'AAAA' })).toThrow(/weights has 0.75 values|weights has/);
    // A model saved before the hidden layer existed is rejected (and a cache of it is rebuilt).
    expect(() => deserializeModel({ ...serialized, version: 1 })).toThrow(/version/);
    const hidden = serialized.hidden!;
    expect(() => deserializeModel({ ...serialized, hidden: { ...hidden, outputBias: 'AAAA' } })).toThrow(
      /hidden output bias has/,
    );
  });

  it('rejects unusable training data', () => {
    expect(() => trainIntentModel([{ text: 'hello', label: 'a' }])).toThrow(/at least 2 in-scope labels/);
    expect(() => trainIntentModel([{ text: 42, label: 'a' } as unknown as LabelledExample])).toThrow(AppError);
  });

  it('carves validation deterministically and keeps every label in train', () => {
    const first = carveValidation(train, 0.2);
    const second = carveValidation(train, 0.2);
    expect(first.validation.map((example) => example.text)).toEqual(second.validation.map((example) => example.text));
    expect(first.validation.length).toBeGreaterThan(20);
    expect(first.validation.length).toBeLessThan(100);
    expect(new Set(first.train.map((example) => example.label)).size).toBe(3);
  });
});

describe('calibration', () => {
  it('temperature scaling never worsens validation NLL and recovers an over-confident scale', () => {
    // Logits of a model that is right 70% of the time but 10x over-confident.
    const random = seededRandom(5);
    const logits: Float32Array[] = [];
    const targets: number[] = [];
    for (let i = 0; i < 400; i++) {
      const target = i % 4;
      const predicted = random() < 0.7 ? target : (target + 1) % 4;
      const row = new Float32Array(4);
      row[predicted] = 20;
      logits.push(row);
      targets.push(target);
    }
    const temperature = fitTemperature(logits, targets);
    expect(temperature).toBeGreaterThan(5);
    expect(negativeLogLikelihood(logits, targets, temperature)).toBeLessThan(negativeLogLikelihood(logits, targets, 1));
  });

  it('chooses the OOS threshold with the best in-scope accuracy that meets the recall floor', () => {
    const predictions = [
      { label: 'a', predicted: 'a', confidence: 0.9 },
      { label: 'a', predicted: 'a', confidence: 0.5 },
      { label: 'b', predicted: 'b', confidence: 0.35 },
      { label: 'oos', predicted: 'a', confidence: 0.3 },
      { label: 'oos', predicted: 'b', confidence: 0.4 },
      { label: 'oos', predicted: 'oos', confidence: 0.9 },
    ];
    const point = chooseOosThreshold(predictions, 0.6);
    // 0.31 catches 2 of 3 OOS while keeping every in-scope example.
    expect(point.oosRecall).toBeCloseTo(2 / 3);
    expect(point.inScopeAccuracy).toBe(1);
    expect(point.threshold).toBeGreaterThan(0.3);
    expect(point.threshold).toBeLessThanOrEqual(0.35);
    expect(oosOperatingPoint(predictions, 0.45).oosRecall).toBe(1);
  });

  it('bounds a measured recall from below (Wilson, one-sided)', () => {
    expect(normalQuantile(0.95)).toBeCloseTo(1.6449, 3);
    expect(normalQuantile(0.975)).toBeCloseTo(1.96, 3);
    expect(wilsonLowerBound(75, 100, 0)).toBe(0.75);
    // 78 of 100 is the least that shows a recall of 0.7 with 95% confidence.
    expect(wilsonLowerBound(78, 100, 0.95)).toBeGreaterThan(0.7);
    expect(wilsonLowerBound(77, 100, 0.95)).toBeLessThan(0.7);
    expect(wilsonLowerBound(14, 15, 0.95)).toBeGreaterThan(0.7);
    expect(wilsonLowerBound(13, 15, 0.95)).toBeLessThan(0.7);
    expect(wilsonLowerBound(0, 0, 0.95)).toBe(0);
  });

  it('asks the lower bound of OOS recall, not the measured recall, to reach the target', () => {
    // 100 in-scope examples (all right) and 100 OOS examples, overlapping on one score scale.
    const predictions = [
      ...Array.from({ length: 100 }, (_, i) => ({ label: 'a', predicted: 'a', confidence: 0.301 + i / 200 })),
      ...Array.from({ length: 100 }, (_, i) => ({ label: 'oos', predicted: 'a', confidence: 0.1 + i / 200 })),
    ];
    const point = chooseOosThreshold(predictions, 0.7);
    const bounded = chooseOosThreshold(predictions, { minRecall: 0.7, confidence: 0.95 });
    expect(point.oosRecall).toBeCloseTo(0.7);
    expect(bounded.oosRecall).toBeCloseTo(0.78);
    expect(bounded.inScopeAccuracy).toBeLessThan(point.inScopeAccuracy);
    expect(bounded.oosRecallLowerBound).toBeGreaterThanOrEqual(0.7);
    expect(bounded.meetsTarget).toBe(true);
    expect(bounded.oosExamples).toBe(100);
    // Thresholds sit between validation scores, never on one.
    expect(predictions.some((prediction) => prediction.confidence === bounded.threshold)).toBe(false);
    // With three OOS examples no recall can prove 0.7 at 95%: the measured recall must reach it instead.
    const few = chooseOosThreshold(predictions.slice(0, 103), { minRecall: 0.7, confidence: 0.95 });
    expect(few.oosExamples).toBe(3);
    expect(few.oosRecall).toBe(1);
    expect(few.meetsTarget).toBe(true);
    // Out of reach altogether: the best recall, flagged as not meeting the target.
    const unreachable = chooseOosThreshold([{ label: 'oos', predicted: 'a', confidence: 1 }], 0.7);
    expect(unreachable.meetsTarget).toBe(false);
  });

  it('scores an intent against the oos class without penalising a split between two intents', () => {
    // Labels: a, b, oos. Split between a and b, no OOS mass: in scope.
    expect(inScopeScoreOf([0.48, 0.48, 0.04], 2, 'confidence')).toBeCloseTo(0.48);
    expect(inScopeScoreOf([0.48, 0.48, 0.04], 2, 'versus-oos')).toBeCloseTo(0.48 / 0.52);
    // OOS close behind the best intent: low score.
    expect(inScopeScoreOf([0.5, 0.1, 0.4], 2, 'versus-oos')).toBeCloseTo(0.5 / 0.9);
    // Without an oos class the rule falls back to the top probability.
    expect(inScopeScoreOf([0.7, 0.3], -1, 'versus-oos')).toBeCloseTo(0.7);
    const prediction = { label: 'a', confidence: 0.9, ranked: [], inScopeScore: 0.6 };
    expect(isOutOfScope(prediction, 0.5)).toBe(false);
    expect(isOutOfScope(prediction, 0.7)).toBe(true);
    expect(isOutOfScope({ ...prediction, label: 'oos' }, 0)).toBe(true);
  });
});

describe('out-of-scope rule chosen on validation', () => {
  const oosWords = ['xylophone', 'quantum', 'banana', 'zebra', 'jupiter', 'tax', 'lamp', 'orbit', 'volcano', 'poem'];
  const oosExamples = (count: number, seed: number): LabelledExample[] => {
    const random = seededRandom(seed);
    const pick = () => oosWords[Math.floor(random() * oosWords.length)]!;
    return Array.from({ length: count }, () => ({ text: `${pick()} ${pick()} ${pick()}`, label: 'oos' }));
  };
  const train = [...syntheticExamples(300, 21), ...oosExamples(30, 22)];
  const validation = [...syntheticExamples(90, 23), ...oosExamples(30, 24)];
  const model = trainIntentModel(train, { validation, epochs: 6, hiddenEpochs: 10 });

  it('records the score rule, the threshold and the recall evidence', () => {
    expect(model.labels).toContain('oos');
    expect(['confidence', 'versus-oos']).toContain(model.oosScore);
    const evidence = model.metadata.oosEvidence!;
    expect(evidence.minRecall).toBe(DEFAULT_MIN_OOS_RECALL);
    expect(evidence.confidence).toBe(DEFAULT_OOS_RECALL_CONFIDENCE);
    expect(evidence.oosExamples).toBe(30);
    expect(evidence.meetsTarget).toBe(true);
    expect(evidence.oosRecallLowerBound).toBeGreaterThanOrEqual(DEFAULT_MIN_OOS_RECALL);
    expect(model.metadata.oosOperatingPoint?.threshold).toBe(model.oosThreshold);
    const prediction = predict(model, 'tell me about the pizza recipe');
    expect(prediction.label).toBe('food');
    expect(isOutOfScope(prediction, model.oosThreshold)).toBe(false);
  });

  it('uses the rule it is asked to, and rejects a bad target', () => {
    const forced = trainIntentModel(train, { validation, epochs: 6, hiddenUnits: 0, oosScore: 'versus-oos' });
    expect(forced.oosScore).toBe('versus-oos');
    const text = 'what song is on the playlist';
    const prediction = predict(forced, text);
    const probabilities = prediction.ranked
      .slice()
      .sort((a, b) => forced.labels.indexOf(a.label) - forced.labels.indexOf(b.label))
      .map((entry) => entry.confidence);
    expect(prediction.inScopeScore).toBeCloseTo(
      inScopeScoreOf(probabilities, forced.labels.indexOf('oos'), 'versus-oos'),
      10,
    );
    expect(() => trainIntentModel(train, { validation, minOosRecall: 1.5 })).toThrow(/minOosRecall/);
    expect(() => trainIntentModel(train, { validation, oosRecallConfidence: 1 })).toThrow(/oosRecallConfidence/);
  });

  it('round-trips the rule through JSON and reads a version 2 model as the confidence rule', () => {
    const serialized = serializeModel(model);
    const restored = deserializeModel(JSON.stringify(serialized));
    expect(restored.oosScore).toBe(model.oosScore);
    expect(restored.metadata.oosEvidence).toEqual(model.metadata.oosEvidence);
    const { oosScore: _rule, ...rest } = serialized;
    const { oosEvidence: _evidence, ...oldMetadata } = serialized.metadata;
    const version2 = deserializeModel({ ...rest, version: 2, metadata: oldMetadata });
    expect(version2.oosScore).toBe('confidence');
    expect(version2.metadata.oosEvidence).toBeNull();
    const text = 'xylophone banana orbit';
    expect(predict(version2, text).inScopeScore).toBeCloseTo(predict(version2, text).confidence, 12);
    // A version 3 model must say which rule its threshold is for.
    expect(() => deserializeModel({ ...rest })).toThrow(/oosScore/);
  });
});

describe('default Tandem model', () => {
  const model = loadDefaultModel();
  const classifier = createLocalClassifier(model);

  it('covers the default intents plus oos and calibrates on validation', () => {
    expect(model.labels).toEqual([...DEFAULT_INTENTS, 'oos'].sort());
    expect(model.metadata.validationExamples).toBeGreaterThan(100);
    // Temperature scaling minimises NLL; ECE should improve or at worst stay put.
    expect(model.metadata.eceAfter).toBeLessThanOrEqual(model.metadata.eceBefore + 0.005);
    expect(model.reliability.reduce((sum, bin) => sum + bin.count, 0)).toBeGreaterThan(100);
  });

  it.each([
    ['I forgot my password and the reset email never arrived', 'password_reset'],
    ['Why did my invoice go up this month? We have the same number of members', 'billing_query'],
    ['Can I export my timesheet to PDF?', 'feature_question'],
    ['The desktop timer crashes every time I open it on Windows', 'bug_report'],
    ['Please delete my account and everything you store about me', 'account_deletion'],
    ['I renewed the yearly plan by mistake, I want my money back', 'refund_request'],
    ['A stranger keeps sending me spam board invitations', 'abuse_report'],
    ['What are your support hours?', 'general_question'],
    ['Who won the basketball game yesterday?', 'oos'],
  ])('classifies %j as %s', (text, intent) => {
    const result = classifier.classify(text);
    expect(classificationSchema.parse(result)).toEqual(result);
    expect(result.intent).toBe(intent);
    expect(result.source).toBe('local');
    expect(result.alternatives).toHaveLength(3);
    expect(result.alternatives.map((entry) => entry.intent)).not.toContain(intent);
  });

  it('marks out-of-scope by label or by threshold and fills the signals', () => {
    expect(classifier.classify('Tell me a joke about pirates').outOfScope).toBe(true);
    const strict = createLocalClassifier(model, { oosThreshold: 1 });
    expect(strict.classify('I forgot my password').outOfScope).toBe(true);
    const frustrated = classifier.classify('URGENT: production board is down and we are losing money!!!', {
      priorTicketsSameIssue: 2,
    });
    expect(frustrated.urgency).toBe('high');
    expect(frustrated.sentiment.frustrated).toBe(true);
    expect(classifier.classify('Ich habe mein Passwort vergessen, bitte helfen Sie mir').language).toBe('de');
    expect(() => createLocalClassifier(model, { oosThreshold: 2 })).toThrow(AppError);
  });

  it('uses a cache of the current version and recipe, and rebuilds one of an older version or recipe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'default-model-'));
    const cachePath = join(dir, 'default-intent-model.json');
    const serialized = serializeModel(model);
    const recipe = defaultModelRecipe();
    const marked = { ...serialized, metadata: { ...serialized.metadata, trainSeconds: -1 } };
    writeFileSync(cachePath, JSON.stringify({ ...marked, recipe }));
    expect(loadDefaultModel({ cachePath }).metadata.trainSeconds).toBe(-1);
    // Another recipe (here: other training options) is not reused.
    expect(defaultModelRecipe({ minOosRecall: 0.9 })).not.toBe(recipe);
    writeFileSync(cachePath, JSON.stringify({ ...marked, recipe: defaultModelRecipe({ minOosRecall: 0.9 }) }));
    expect(loadDefaultModel({ cachePath }).metadata.trainSeconds).toBeGreaterThan(0);
    const { oosScore: _rule, ...rest } = serialized;
    const { oosEvidence: _evidence, ...oldMetadata } = serialized.metadata;
    writeFileSync(
      cachePath,
      JSON.stringify({ ...rest, version: 2, recipe, metadata: { ...oldMetadata, trainSeconds: -1 } }),
    );
    const rebuilt = loadDefaultModel({ cachePath });
    expect(rebuilt.metadata.trainSeconds).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(cachePath, 'utf8')).version).toBe(MODEL_VERSION);
  });

  it('retrains from corrections: a corrected phrase is learned', () => {
    const phrase = 'the frobnicator widget keeps wobbling';
    const train = Array.from({ length: 5 }, () => ({ text: phrase, label: 'bug_report' }));
    const base = [
      ...train,
      ...syntheticExamples(60, 9).map((example) => ({
        ...example,
        label: example.label === 'food' ? 'general_question' : 'feature_question',
      })),
    ];
    const retrained = trainIntentModel(base, { epochs: 6 });
    expect(predict(retrained, phrase).label).toBe('bug_report');
  });
});

describe('intents backtest input', () => {
  it('reports the line numbers of bad JSONL lines', () => {
    const content = ['{"text":"hi","label":"a"}', '{"text":"","label":"a"}', 'not json', '', '{"text":"x"}'].join('\n');
    try {
      parseIntentJsonl(content, 'train.jsonl');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      const message = (error as AppError).message;
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
      expect(message).toContain('3 bad line(s)');
      expect(message).toContain('line 2: text');
      expect(message).toContain('line 3: not valid JSON');
      expect(message).toContain('line 5: label');
    }
    expect(parseIntentJsonl('{"text":"hi","label":"a","team":"t"}\n', 'ok.jsonl')).toEqual([
      { text: 'hi', label: 'a', team: 't' },
    ]);
  });

  it('rejects a target error outside (0, 1)', () => {
    expect(() => createIntentsBacktestSuite({ trainPath: 'a', testPath: 'b', targetError: 0 })).toThrow(AppError);
  });

  it('runs end to end on small JSONL files, with OOS, routing and a Tier 0 table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intents-backtest-'));
    const toLines = (examples: LabelledExample[]) =>
      examples
        .map((example) => JSON.stringify({ ...example, team: example.label === 'food' ? 'kitchen' : 'media' }))
        .join('\n');
    const oos = ['xylophone quantum', 'banana tax return', 'zebra crossing lamp', 'orbit of jupiter moons'];
    const withOos = (examples: LabelledExample[], offset: number) => [
      ...examples,
      ...oos.map((text, index) => ({ text: `${text} ${offset + index}`, label: 'oos' })),
    ];
    writeFileSync(join(dir, 'train.jsonl'), toLines(syntheticExamples(240, 11)));
    writeFileSync(join(dir, 'val.jsonl'), toLines(withOos(syntheticExamples(60, 12), 0)));
    writeFileSync(join(dir, 'test.jsonl'), toLines(withOos(syntheticExamples(60, 13), 10)));
    const suite = createIntentsBacktestSuite({
      trainPath: join(dir, 'train.jsonl'),
      testPath: join(dir, 'test.jsonl'),
      valPath: join(dir, 'val.jsonl'),
      targetError: 0.05,
    });
    const lines: string[] = [];
    const result = await suite.run({ sharedDir: dir, quick: false, progress: (line) => lines.push(line) });
    expect(result.metrics.intent_accuracy).toBeGreaterThan(0.8);
    expect(result.metrics.oos_recall).not.toBeNull();
    expect(result.metrics.routing_accuracy).toBeGreaterThan(0.8);
    expect(result.tables.some((table) => table.title.startsWith('Tier 0 go/no-go'))).toBe(true);
    expect(result.charts.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeGreaterThan(0);
  });

  it('Tier 0 decision picks the lowest threshold meeting the target on validation', () => {
    const row = (label: string, predicted: string, confidence: number) => ({
      text: '',
      label,
      predicted,
      topLabel: predicted,
      confidence,
    });
    const validation = [
      ...Array.from({ length: 6 }, () => row('a', 'a', 0.95)),
      row('b', 'a', 0.8),
      row('a', 'a', 0.8),
    ];
    const test = [row('a', 'a', 0.97), row('a', 'a', 0.5), row('b', 'a', 0.96)];
    const [decision] = tier0Decisions(validation, test, ['a'], 0.05);
    expect(decision?.go).toBe(true);
    expect(decision?.threshold).toBe(0.81);
    expect(decision?.testAutomationShare).toBeCloseTo(0.5);
    expect(decision?.testErrorRate).toBeCloseTo(0.5);
  });
});

describe('training cost on long texts', () => {
  it('reads only the first maxTokens tokens of a text, and all of it for models that predate the cap', async () => {
    const { extractTerms, DEFAULT_FEATURE_OPTIONS } = await import('../../server/triage/classifier/features.ts');
    const head = Array.from({ length: 64 }, (_, index) => `w${String.fromCharCode(97 + (index % 26))}`).join(' ');
    const text = `${head} signature quoted reply`;
    const capped = extractTerms(text, DEFAULT_FEATURE_OPTIONS);
    expect(DEFAULT_FEATURE_OPTIONS.maxTokens).toBe(64);
    expect(capped.word.has('w signature')).toBe(false);
    expect(capped.word.has('w wa')).toBe(true);
    const { maxTokens: _cap, ...uncappedOptions } = DEFAULT_FEATURE_OPTIONS;
    expect(extractTerms(text, uncappedOptions).word.has('w signature')).toBe(true);
  });

  it('lowers epochs to stay within the work budget, never below the minimum or above what was asked', async () => {
    const { affordableEpochs } = await import('../../server/triage/classifier/model.ts');
    // CLINC150-sized work keeps every epoch; long tickets get fewer; huge work stops at the minimum.
    expect(affordableEpochs(0.276e9, 1.5e9, 5, 2)).toBe(5);
    expect(affordableEpochs(0.65e9, 1.5e9, 5, 2)).toBe(2);
    expect(affordableEpochs(0.526e9, 3.3e9, 6, 2)).toBe(6);
    expect(affordableEpochs(0.8e9, 3.3e9, 6, 2)).toBe(4);
    expect(affordableEpochs(90e9, 3.3e9, 6, 2)).toBe(2);
  });
});

describe('the second OOS variant on a worker thread', () => {
  it('gives the same model as training both variants here', async () => {
    const { serializeModel } = await import('../../server/triage/classifier/model.ts');
    const random = seededRandom(11);
    const vocabulary = ['invoice', 'refund', 'password', 'export', 'board', 'timer', 'slack', 'plan', 'login', 'card'];
    const examples: LabelledExample[] = [];
    for (let index = 0; index < 2_400; index += 1) {
      const label = index % 13 === 0 ? 'oos' : `intent_${index % 6}`;
      const words = Array.from({ length: 6 }, () => vocabulary[Math.floor(random() * vocabulary.length)]);
      examples.push({ text: `${label === 'oos' ? 'weather' : label} ${words.join(' ')}`, label });
    }
    const options = { epochs: 2, hiddenUnits: 0, oosMode: 'auto' as const };
    const progressLines: string[] = [];
    const here = serializeModel(trainIntentModel(examples, { ...options, parallel: false }));
    const worker = serializeModel(
      trainIntentModel(examples, { ...options, progress: (line) => progressLines.push(line) }),
    );
    const strip = (model: typeof here) => ({
      ...model,
      metadata: { ...model.metadata, trainedAt: '', trainSeconds: 0 },
    });
    expect(strip(worker)).toEqual(strip(here));
    // Both variants were trained and compared, and the worker's lines were replayed.
    expect(progressLines.filter((line) => line.startsWith('training ')).length).toBe(2);
    expect(progressLines.some((line) => line.includes('worker thread unavailable'))).toBe(false);
  });
});
