import { ObjectNotFound, type ObjectStore } from '../storage/object-store.js';
import type { FileSlice } from './fs-view.js';
import { joinPath, type Timeline } from './timeline.js';

/**
 * Tombstones: the source positions of keys a compaction removed from a file group.
 *
 * The writer's source-order guard knows a key's position from the latest slice's rows
 * and delete blocks. Compaction writes a base file without the deleted keys, so their
 * delete positions would be forgotten and a Debezium redelivery (old changes under new
 * Kafka offsets) of such a delete, or of an older upsert, would be committed again.
 * Compaction therefore records them per file group in
 * `.hoodie/.aux/cdc-lake/tombstones/<fileId>_<compaction instant>.json`, written before
 * the compaction's `commit` completes and used only once it has: a file of a
 * rolled-back compaction is never read. The next compaction of the group carries them
 * forward; a key written again (a newer row) drops its tombstone.
 *
 * Why not a delete block in the compacted slice: a log file there makes the slice look
 * uncompacted to every compaction planner (ours by log bytes, Hudi's by log files), so it
 * would be planned again after every compaction. `.hoodie/.aux/` is Hudi's place for
 * auxiliary files; Spark and hudi-rs ignore it.
 */

export const TOMBSTONE_DIR = '.hoodie/.aux/cdc-lake/tombstones';

/** Record key → ordering value (source position) of its delete. */
export type Tombstones = Map<string, bigint>;

export class TombstoneError extends Error {
  override readonly name = 'TombstoneError';
}

export function tombstonePath(tableBase: string, fileId: string, compactionInstant: string): string {
  return joinPath(tableBase, TOMBSTONE_DIR, `${fileId}_${compactionInstant}.json`);
}

/** JSON `{"version":1,"deletes":[[key,"ordering"],…]}` sorted by key; orderings as strings (int64). Pure. */
export function encodeTombstones(t: Tombstones): Uint8Array {
  const deletes = [...t].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, o]) => [k, o.toString()]);
  return Buffer.from(JSON.stringify({ version: 1, deletes }));
}

export function decodeTombstones(bytes: Uint8Array, path: string): Tombstones {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new TombstoneError(`${path}: not JSON (${e instanceof Error ? e.message : String(e)}); delete it only together with its compaction's base files`, { cause: e });
  }
  const deletes = (doc as { version?: unknown; deletes?: unknown } | null)?.deletes;
  if ((doc as { version?: unknown } | null)?.version !== 1 || !Array.isArray(deletes)) throw new TombstoneError(`${path}: expected {"version":1,"deletes":[…]}`);
  const out: Tombstones = new Map();
  for (const [i, d] of (deletes as unknown[]).entries()) {
    if (!Array.isArray(d) || typeof d[0] !== 'string' || typeof d[1] !== 'string' || !/^-?\d+$/.test(d[1])) throw new TombstoneError(`${path}: deletes[${i}] is not [key, "ordering"]`);
    out.set(d[0], BigInt(d[1]));
  }
  return out;
}

/**
 * The tombstones of a compacted file group (pure): the deletes carried into the slice by
 * the previous compaction and the slice's own latest deletes (the newer position wins),
 * except keys that have a row again.
 */
export function carryForward(previous: Tombstones, rows: ReadonlySet<string> | ReadonlyMap<string, unknown>, deletes: Iterable<readonly [string, bigint]>): Tombstones {
  const out: Tombstones = new Map();
  for (const [key, ordering] of previous) if (!rows.has(key)) out.set(key, ordering);
  for (const [key, ordering] of deletes) {
    const carried = out.get(key);
    if (carried === undefined || ordering > carried) out.set(key, ordering);
  }
  return out;
}

/** The deletes a completed compaction carried into `slice` (empty when its base is no compaction's or it carried none). */
export async function carriedDeletes(store: ObjectStore, tableBase: string, timeline: Timeline, slice: FileSlice): Promise<Tombstones> {
  // A completed compaction's base file; one from before the active timeline (archived) may be too, and only its tombstone file can tell.
  const made = timeline.instants.find((i) => i.timestamp === slice.baseInstant);
  const mayCarry = made === undefined ? timeline.committed().has(slice.baseInstant) : made.compaction === true && made.state === 'completed';
  if (!mayCarry) return new Map();
  const path = tombstonePath(tableBase, slice.fileId, slice.baseInstant);
  try {
    return decodeTombstones(await store.get(path), path);
  } catch (e) {
    if (e instanceof ObjectNotFound) return new Map(); // a compaction with nothing to carry (or one by another writer)
    throw e;
  }
}
