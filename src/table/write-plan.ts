import type { Row } from './schema.js';

/**
 * What one commit does to one key, decided before any byte is written. Pure:
 * the source-order guard (design brief §3.3) lives here and nowhere else.
 */

export type Mutation =
  | {
      kind: 'upsert';
      row: Row;
      ordering: bigint;
      unavailable?: readonly string[];
      unordered?: boolean;
      /** Precombine: a delete of the key came first in the batch, after changes ordered up to this. */
      afterDelete?: bigint;
    }
  | { kind: 'delete'; row: Row; ordering: bigint; unordered?: boolean };

/** What the table holds for a key: the ordering of its latest change, and whether that was a delete. */
export interface KeyState {
  ordering: bigint;
  deleted: boolean;
}

function newer(incoming: Mutation, current: { ordering: bigint; unordered?: boolean } | undefined): boolean {
  if (current === undefined) return true;
  // Incremental-snapshot reads carry no position: they replace only other unordered reads.
  if (incoming.unordered) return current.unordered === true;
  return incoming.ordering > current.ordering;
}

/**
 * How a table's orderings decide. `position` (ordered by `_cdc_position`): every change has
 * its own source position, so only a strictly newer one applies — an equal one is a replay.
 * `precombine` (any other ordering field): Hudi's event-time merge, which every engine must
 * read the same way; see `foldPrecombine` and `decidePrecombine`. Its orderings are ≥ 0.
 */
export type OrderingRule = 'position' | 'precombine';

/** Keeps the newest mutation per key within one batch (`position`: equal positions keep the first — a duplicate). */
export function latestPerKey(mutations: readonly Mutation[], keyOf: (m: Mutation) => string, rule: OrderingRule = 'position'): Map<string, Mutation> {
  const out = new Map<string, Mutation>();
  for (const mutation of mutations) {
    const key = keyOf(mutation);
    const current = out.get(key);
    if (rule === 'precombine' && current !== undefined) out.set(key, foldMutation(current, mutation));
    else if (newer(mutation, current)) out.set(key, carryUnavailable(mutation, current));
  }
  return out;
}

/** One change of a key as the precombine fold sees it. */
export interface OrderedChange {
  deleted: boolean;
  ordering: bigint;
  afterDelete?: bigint | undefined;
}

/**
 * Precombine: folds the next change of a key (in source order) into the one kept so far.
 * A delete always applies: it removes everything ordered up to the highest value seen, and
 * carries that value. An upsert after it must beat that value when written
 * (`decidePrecombine`); between upserts the larger value wins, an equal one the later.
 * Pure; the pipeline's buffer and the table writer fold with it alike.
 */
export function foldPrecombine(kept: OrderedChange, next: OrderedChange): { keep: 'kept' | 'next'; ordering: bigint; afterDelete: bigint | undefined } {
  if (next.deleted) {
    const highest = kept.deleted ? kept.ordering : max(kept.ordering, kept.afterDelete ?? kept.ordering);
    return { keep: 'next', ordering: max(highest, next.ordering), afterDelete: undefined };
  }
  if (kept.deleted) return { keep: 'next', ordering: next.ordering, afterDelete: kept.ordering };
  if (next.ordering >= kept.ordering) return { keep: 'next', ordering: next.ordering, afterDelete: kept.afterDelete };
  return { keep: 'kept', ordering: kept.ordering, afterDelete: kept.afterDelete };
}

function foldMutation(kept: Mutation, next: Mutation): Mutation {
  const f = foldPrecombine(orderedChange(kept), orderedChange(next));
  if (f.keep === 'kept') return kept;
  if (next.kind === 'delete') return { ...next, ordering: f.ordering };
  const { afterDelete: _, ...upsert } = carryUnavailable(next, kept) as Extract<Mutation, { kind: 'upsert' }>;
  return f.afterDelete === undefined ? upsert : { ...upsert, afterDelete: f.afterDelete };
}

function orderedChange(m: Mutation): OrderedChange {
  return { deleted: m.kind === 'delete', ordering: m.ordering, afterDelete: m.kind === 'upsert' ? m.afterDelete : undefined };
}

const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** The lowest precombine ordering: a delete's before it is folded, and what a delete of nothing is written at. */
export const PRECOMBINE_FLOOR = 0n;

/**
 * Precombine: what a folded mutation writes given the stored state of its key, so that every
 * Hudi engine reads the same row (hudi-rs merges a slice's records before its deletes; Spark
 * merges log into base with `DefaultHoodieRecordPayload`). A delete is written at the highest
 * ordering of what it removes (0 when nothing): a delete at least as high as a record removes
 * it in every engine. An upsert applies over a record with an equal or larger value, over a
 * delete only with a larger one (an equal one: hudi-rs deletes it, Spark keeps it); an upsert
 * that follows a delete but does not beat it leaves the delete. Undefined: skip.
 */
export function decidePrecombine(m: Mutation, stored: KeyState | undefined): Decision | undefined {
  const floor = stored?.ordering ?? PRECOMBINE_FLOOR;
  if (m.kind === 'delete') return { kind: 'delete', ordering: max(floor, m.ordering) };
  if (m.afterDelete !== undefined) {
    const ceiling = max(floor, m.afterDelete);
    return m.ordering > ceiling ? { kind: 'upsert', ordering: m.ordering } : { kind: 'delete', ordering: ceiling };
  }
  if (stored === undefined) return { kind: 'upsert', ordering: m.ordering };
  const wins = stored.deleted ? m.ordering > stored.ordering : m.ordering >= stored.ordering;
  return wins ? { kind: 'upsert', ordering: m.ordering } : undefined;
}

/** What a mutation writes: an upsert or a delete, at this ordering value. */
export interface Decision {
  kind: 'upsert' | 'delete';
  ordering: bigint;
}

/** What a mutation writes given the stored state of its key under the table's rule; undefined: skip it. */
export function decide(m: Mutation, stored: KeyState | undefined, rule: OrderingRule): Decision | undefined {
  if (rule === 'precombine') return decidePrecombine(m, stored);
  return applies(m, stored) ? { kind: m.kind, ordering: writtenOrdering(m, stored) } : undefined;
}

/** An upsert replacing another in the same batch takes the values Debezium did not send (TOAST) from it. */
function carryUnavailable(m: Mutation, replaced: Mutation | undefined): Mutation {
  if (m.kind !== 'upsert' || !m.unavailable?.length || replaced?.kind !== 'upsert') return m;
  const row: Row = { ...m.row };
  const still = m.unavailable.filter((col) => {
    if (replaced.unavailable?.includes(col) || !(col in replaced.row)) return true;
    row[col] = replaced.row[col] ?? null;
    return false;
  });
  return { ...m, row, unavailable: still };
}

/**
 * Whether a mutation changes the table given the stored state of its key: only a
 * strictly newer position applies, so stale replays and duplicates are skipped and
 * a replayed old delete never removes a newer row. Unordered reads apply unless the
 * key was deleted by a positioned change.
 */
export function applies(m: Mutation, stored: KeyState | undefined): boolean {
  if (stored === undefined) return true;
  if (m.unordered) return !stored.deleted;
  return m.ordering > stored.ordering;
}

/** The ordering value to write: unordered reads keep the stored position so later changes still win. */
function writtenOrdering(m: Mutation, stored: KeyState | undefined): bigint {
  if (m.unordered && stored !== undefined && stored.ordering > m.ordering) return stored.ordering;
  return m.ordering;
}

/** Fills columns Debezium did not send (unchanged TOAST values) from the stored row. */
export function fillUnavailable(row: Row, unavailable: readonly string[] | undefined, stored: Row | undefined): Row {
  if (unavailable === undefined || unavailable.length === 0) return row;
  const out: Row = { ...row };
  for (const col of unavailable) out[col] = stored?.[col] ?? null;
  return out;
}
