/**
 * A field-weighted BM25+ inverted index over passages, written for the engine's hot path: one
 * conversation search per ticket must not allocate or sort in proportion to the KB.
 *
 * Scores are bit-for-bit those MiniSearch 7 computes with the options the index used before
 * (fields title and text, a title boost, OR, no prefix or fuzzy matching, BM25 k 1.2, b 0.7,
 * d 0.5), on an index without discarded documents left to vacuum: the same formula, the same
 * order of floating-point operations (per query term, title then text; terms summed in query
 * order; the sum times the number of distinct query terms matched), the same field length
 * (distinct raw tokens) and the same running average of field lengths. The equivalence is
 * checked against MiniSearch itself in test/unit/knowledge-equivalence.test.ts. MiniSearch
 * returned every passage matching any term as an object with per-term match lists and sorted
 * them all; here scores go to preallocated typed arrays and only the top k are ordered.
 */
import { AppError } from '../../errors.ts';

/** MiniSearch's BM25+ defaults (k1, length normalisation, the "+" lower bound per matched term). */
const K = 1.2;
const B = 0.7;
const D = 0.5;

interface Posting {
  slots: number[];
  frequencies: number[];
  /** Postings of live slots: the term's document frequency in this field. */
  live: number;
}

export interface FieldTerms {
  /** Distinct raw tokens of the field (MiniSearch's field length). */
  length: number;
  /** Processed term -> occurrences in the field. */
  frequencies: ReadonlyMap<string, number>;
}

/** Scores of one query or conversation: `slots[0..count)` with `scores[slot]`, unordered. */
export interface ScoredSlots {
  slots: number[];
  count: number;
  scores: Float64Array;
}

/** Stamped scratch arrays: a slot's value is current only when its stamp is the current one. */
class Scratch {
  values = new Float64Array(0);
  counts = new Int32Array(0);
  stamps = new Uint32Array(0);
  touched: number[] = [];
  count = 0;
  stamp = 0;

  begin(capacity: number): void {
    if (this.values.length < capacity) {
      const size = Math.max(capacity, this.values.length * 2, 64);
      this.values = new Float64Array(size);
      this.counts = new Int32Array(size);
      this.stamps = new Uint32Array(size);
    }
    this.stamp += 1;
    if (this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    this.count = 0;
  }

  has(slot: number): boolean {
    return this.stamps[slot] === this.stamp;
  }

  set(slot: number, value: number): void {
    this.stamps[slot] = this.stamp;
    this.values[slot] = value;
    this.counts[slot] = 0;
    this.touched[this.count] = slot;
    this.count += 1;
  }
}

export interface Bm25Index {
  readonly documentCount: number;
  /** Slots grow monotonically (compacted when most are dead); ids are the caller's. */
  readonly capacity: number;
  /** Returns the slot; slots change when compacted (see onCompact). */
  add(id: string, fields: readonly FieldTerms[]): number;
  /** Unknown ids are ignored. */
  discard(id: string): void;
  isLive(slot: number): boolean;
  idOf(slot: number): string;
  /** Raw query terms in order, duplicates kept (each occurrence scores, as in MiniSearch). */
  score(terms: readonly string[]): ScoredSlots;
  /**
   * Adds `weight x score` of a query to a conversation accumulator (the last turn is scored first
   * with `start`; MiniSearch-era code summed per passage in that order).
   */
  startConversation(): void;
  addToConversation(terms: readonly string[], weight: number, first: boolean): void;
  conversation(): ScoredSlots;
  /** Called with the old -> new slot map when dead slots are compacted away. */
  onCompact(listener: (remap: Int32Array) => void): void;
}

export function createBm25Index(fieldBoosts: readonly number[]): Bm25Index {
  const fieldCount = fieldBoosts.length;
  const postingsByTerm = new Map<string, Array<Posting | undefined>>();
  let ids: string[] = [];
  const slotById = new Map<string, number>();
  let live = new Uint8Array(64);
  let fieldLengths: Int32Array[] = fieldBoosts.map(() => new Int32Array(64));
  /** Per slot, the postings it appears in (per field), for discard. */
  let slotPostings: Array<Posting[] | undefined> = [];
  const averageFieldLength: number[] = fieldBoosts.map(() => 0);
  let documentCount = 0;
  let slotCount = 0;
  let deadCount = 0;
  const compactListeners: Array<(remap: Int32Array) => void> = [];

  // k x (1 - b + b x length / average) per field and slot, recomputed after the averages move.
  let normalizers: Float64Array[] = fieldBoosts.map(() => new Float64Array(0));
  let normalizersValid = false;

  const termScratch = new Scratch();
  const queryScratch = new Scratch();
  const conversationScratch = new Scratch();

  function grow(): void {
    const size = live.length * 2;
    const nextLive = new Uint8Array(size);
    nextLive.set(live);
    live = nextLive;
    fieldLengths = fieldLengths.map((lengths) => {
      const next = new Int32Array(size);
      next.set(lengths);
      return next;
    });
  }

  // MiniSearch keeps a running average (not a recomputed mean); the same arithmetic keeps the
  // same rounding.
  function addFieldLength(field: number, count: number, length: number): void {
    const average = averageFieldLength[field] ?? 0;
    averageFieldLength[field] = (average * count + length) / (count + 1);
  }

  function removeFieldLength(field: number, count: number, length: number): void {
    if (count === 1) {
      averageFieldLength[field] = 0;
      return;
    }
    averageFieldLength[field] = ((averageFieldLength[field] ?? 0) * count - length) / (count - 1);
  }

  function add(id: string, fields: readonly FieldTerms[]): number {
    if (fields.length !== fieldCount) throw new AppError('INTERNAL', 'field count mismatch in the BM25 index');
    if (slotById.has(id)) throw new AppError('CONFLICT', `duplicate passage id "${id}"`, { details: { id } });
    if (slotCount === live.length) grow();
    const slot = slotCount;
    slotCount += 1;
    ids[slot] = id;
    slotById.set(id, slot);
    live[slot] = 1;
    documentCount += 1;
    const postings: Posting[] = [];
    for (let field = 0; field < fieldCount; field++) {
      const terms = fields[field] as FieldTerms;
      (fieldLengths[field] as Int32Array)[slot] = terms.length;
      addFieldLength(field, documentCount - 1, terms.length);
      for (const [term, frequency] of terms.frequencies) {
        let byField = postingsByTerm.get(term);
        if (byField === undefined) {
          byField = new Array<Posting | undefined>(fieldCount).fill(undefined);
          postingsByTerm.set(term, byField);
        }
        let posting = byField[field];
        if (posting === undefined) {
          posting = { slots: [], frequencies: [], live: 0 };
          byField[field] = posting;
        }
        posting.slots.push(slot);
        posting.frequencies.push(frequency);
        posting.live += 1;
        postings.push(posting);
      }
    }
    slotPostings[slot] = postings;
    normalizersValid = false;
    return slot;
  }

  function discard(id: string): void {
    const slot = slotById.get(id);
    if (slot === undefined) return;
    slotById.delete(id);
    live[slot] = 0;
    for (let field = 0; field < fieldCount; field++) {
      removeFieldLength(field, documentCount, (fieldLengths[field] as Int32Array)[slot] ?? 0);
    }
    documentCount -= 1;
    for (const posting of slotPostings[slot] ?? []) posting.live -= 1;
    slotPostings[slot] = undefined;
    deadCount += 1;
    normalizersValid = false;
    if (deadCount > 1024 && deadCount > slotCount - deadCount) compact();
  }

  /** Renumbers live slots densely (order kept) and drops dead postings. */
  function compact(): void {
    const remap = new Int32Array(slotCount).fill(-1);
    let next = 0;
    for (let slot = 0; slot < slotCount; slot++) if (live[slot] === 1) remap[slot] = next++;
    const nextIds: string[] = [];
    const nextLive = new Uint8Array(Math.max(64, next * 2));
    const nextLengths = fieldLengths.map(() => new Int32Array(nextLive.length));
    const nextSlotPostings: Array<Posting[] | undefined> = [];
    for (let slot = 0; slot < slotCount; slot++) {
      const target = remap[slot] as number;
      if (target < 0) continue;
      nextIds[target] = ids[slot] as string;
      slotById.set(ids[slot] as string, target);
      nextLive[target] = 1;
      for (let field = 0; field < fieldCount; field++) {
        (nextLengths[field] as Int32Array)[target] = (fieldLengths[field] as Int32Array)[slot] as number;
      }
      nextSlotPostings[target] = slotPostings[slot];
    }
    for (const [term, byField] of postingsByTerm) {
      let any = false;
      for (const posting of byField) {
        if (posting === undefined) continue;
        const slots: number[] = [];
        const frequencies: number[] = [];
        for (let position = 0; position < posting.slots.length; position++) {
          const target = remap[posting.slots[position] as number] as number;
          if (target < 0) continue;
          slots.push(target);
          frequencies.push(posting.frequencies[position] as number);
        }
        posting.slots = slots;
        posting.frequencies = frequencies;
        if (slots.length > 0) any = true;
      }
      if (!any) postingsByTerm.delete(term);
    }
    ids = nextIds;
    live = nextLive;
    fieldLengths = nextLengths;
    slotPostings = nextSlotPostings;
    slotCount = next;
    deadCount = 0;
    normalizersValid = false;
    for (const listener of compactListeners) listener(remap);
  }

  function ensureNormalizers(): void {
    if (normalizersValid) return;
    normalizers = fieldLengths.map((lengths, field) => {
      const average = averageFieldLength[field] ?? 0;
      const values = new Float64Array(slotCount);
      for (let slot = 0; slot < slotCount; slot++)
        values[slot] = K * (1 - B + (B * (lengths[slot] as number)) / average);
      return values;
    });
    normalizersValid = true;
  }

  /** One occurrence of a term: per slot, title score plus text score, into termScratch. */
  function scoreTerm(term: string): void {
    termScratch.begin(slotCount);
    const byField = postingsByTerm.get(term);
    if (byField === undefined) return;
    for (let field = 0; field < fieldCount; field++) {
      const posting = byField[field];
      if (posting === undefined || posting.live === 0) continue;
      const matching = posting.live;
      const inverseDocumentFrequency = Math.log(1 + (documentCount - matching + 0.5) / (matching + 0.5));
      const boost = fieldBoosts[field] as number;
      const normalizer = normalizers[field] as Float64Array;
      const { slots, frequencies } = posting;
      for (let position = 0; position < slots.length; position++) {
        const slot = slots[position] as number;
        if (live[slot] !== 1) continue;
        const frequency = frequencies[position] as number;
        const raw = inverseDocumentFrequency * (D + (frequency * (K + 1)) / (frequency + (normalizer[slot] as number)));
        const weighted = boost * raw;
        if (termScratch.has(slot)) termScratch.values[slot] = (termScratch.values[slot] as number) + weighted;
        else termScratch.set(slot, weighted);
      }
    }
  }

  function score(terms: readonly string[]): ScoredSlots {
    ensureNormalizers();
    queryScratch.begin(slotCount);
    const counted = new Set<string>();
    for (const term of terms) {
      scoreTerm(term);
      // A repeated term adds its score again but counts once for the distinct-term factor.
      const firstOccurrence = !counted.has(term);
      counted.add(term);
      const touched = termScratch.touched;
      for (let position = 0; position < termScratch.count; position++) {
        const slot = touched[position] as number;
        const value = termScratch.values[slot] as number;
        if (queryScratch.has(slot)) queryScratch.values[slot] = (queryScratch.values[slot] as number) + value;
        else queryScratch.set(slot, value);
        if (firstOccurrence) queryScratch.counts[slot] = (queryScratch.counts[slot] as number) + 1;
      }
    }
    const { touched, values, counts } = queryScratch;
    for (let position = 0; position < queryScratch.count; position++) {
      const slot = touched[position] as number;
      values[slot] = (values[slot] as number) * ((counts[slot] as number) || 1);
    }
    return { slots: touched, count: queryScratch.count, scores: values };
  }

  function addToConversation(terms: readonly string[], weight: number, first: boolean): void {
    const turn = score(terms);
    const { slots, scores } = turn;
    for (let position = 0; position < turn.count; position++) {
      const slot = slots[position] as number;
      const value = scores[slot] as number;
      if (conversationScratch.has(slot)) {
        conversationScratch.values[slot] = (conversationScratch.values[slot] as number) + weight * value;
      } else {
        conversationScratch.set(slot, first ? value : weight * value);
      }
    }
  }

  return {
    get documentCount() {
      return documentCount;
    },
    get capacity() {
      return slotCount;
    },
    add,
    discard,
    isLive: (slot) => live[slot] === 1,
    idOf: (slot) => ids[slot] as string,
    score,
    startConversation: () => conversationScratch.begin(slotCount),
    addToConversation,
    conversation: () => ({
      slots: conversationScratch.touched,
      count: conversationScratch.count,
      scores: conversationScratch.values,
    }),
    onCompact: (listener) => {
      compactListeners.push(listener);
    },
  };
}
