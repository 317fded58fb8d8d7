import type { Row } from './schema.js';

/**
 * What one commit does to one key, decided before any byte is written. Pure:
 * the source-order guard (design brief §3.3) lives here and nowhere else.
 */

export type Mutation =
  | { kind: 'upsert'; row: Row; ordering: bigint; unavailable?: readonly string[]; unordered?: boolean }
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

/** Keeps the newest mutation per key within one batch (equal positions: the first one wins — a duplicate). */
export function latestPerKey(mutations: readonly Mutation[], keyOf: (m: Mutation) => string): Map<string, Mutation> {
  const out = new Map<string, Mutation>();
  for (const mutation of mutations) {
    const key = keyOf(mutation);
    const current = out.get(key);
    if (newer(mutation, current)) out.set(key, carryUnavailable(mutation, current));
  }
  return out;
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
export function writtenOrdering(m: Mutation, stored: KeyState | undefined): bigint {
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
