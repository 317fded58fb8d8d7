/**
 * The exactly-once record (design §3.1): each Hudi commit of a table carries, in
 * `extraMetadata["cdc-lake.checkpoint"]`, the next offset per topic-partition that the
 * table has consumed, plus the last Debezium source position text.
 *
 * Several tables can read one topic (one topic per table is the Debezium default, but
 * topic routing can merge them). So per split a table records two numbers:
 * - `next`: records below it are already in THIS table (skip them for this table);
 * - `floor`: records below it are in EVERY table that had buffered them when this commit
 *   was made (≤ next). A restart seeks each split to the minimum floor over the tables
 *   whose checkpoints name it, so a table that crashed with records still in its buffer
 *   gets them again while the others skip them by `next`.
 * Offsets are JSON strings (int64 does not fit a JSON number for every reader).
 */
import type { SplitId } from '../source/record.js';
import { parseSplitId, splitId } from '../source/record.js';

export const CHECKPOINT_KEY = 'cdc-lake.checkpoint';

export interface SplitCheckpoint {
  next: bigint;
  floor: bigint;
}

export interface Checkpoint {
  splits: Map<SplitId, SplitCheckpoint>;
  /** Text of the last Debezium source position applied (logs, `timeline` output). */
  sourcePosition: string | null;
}

/** A checkpoint text that cannot be read; names the table/instant given by the caller. */
export class CheckpointError extends Error {
  constructor(where: string, reason: string) {
    super(`checkpoint ${where}: ${reason}; the commit metadata key "${CHECKPOINT_KEY}" must be JSON written by cdc-lake`);
    this.name = 'CheckpointError';
  }
}

interface CheckpointJson {
  version: 1;
  /** topic → partition → next offset (or [next, floor] when floor < next). */
  offsets: Record<string, Record<string, string | [string, string]>>;
  sourcePosition: string | null;
}

export function emptyCheckpoint(): Checkpoint {
  return { splits: new Map(), sourcePosition: null };
}

export function encodeCheckpoint(c: Checkpoint): string {
  const offsets: CheckpointJson['offsets'] = {};
  const ids = [...c.splits.keys()].sort();
  for (const id of ids) {
    const s = c.splits.get(id) as SplitCheckpoint;
    const { topic, partition } = parseSplitId(id);
    const t = (offsets[topic] ??= {});
    t[String(partition)] = s.floor < s.next ? [String(s.next), String(s.floor)] : String(s.next);
  }
  const json: CheckpointJson = { version: 1, offsets, sourcePosition: c.sourcePosition };
  return JSON.stringify(json);
}

const OFFSET = /^\d{1,19}$/;

function offsetOf(v: unknown, where: string, id: string): bigint {
  if (typeof v !== 'string' || !OFFSET.test(v)) throw new CheckpointError(where, `offset of ${id} must be a decimal string, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

/** `where` names the table and instant in errors, e.g. `inventory.orders@20250101...`. */
export function decodeCheckpoint(text: string, where = ''): Checkpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(where, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (raw === null || typeof raw !== 'object') throw new CheckpointError(where, 'expected a JSON object');
  const o = raw as Partial<CheckpointJson>;
  if (o.version !== 1) throw new CheckpointError(where, `unsupported version ${JSON.stringify(o.version)} (this build reads version 1)`);
  if (o.offsets === null || typeof o.offsets !== 'object') throw new CheckpointError(where, '"offsets" must be an object');
  const splits = new Map<SplitId, SplitCheckpoint>();
  for (const [topic, parts] of Object.entries(o.offsets)) {
    if (parts === null || typeof parts !== 'object') throw new CheckpointError(where, `offsets of topic ${topic} must be an object`);
    for (const [p, v] of Object.entries(parts)) {
      if (!/^\d+$/.test(p)) throw new CheckpointError(where, `partition ${JSON.stringify(p)} of topic ${topic} is not a number`);
      const id = splitId(topic, Number(p));
      const next = offsetOf(Array.isArray(v) ? v[0] : v, where, id);
      const floor = Array.isArray(v) ? offsetOf(v[1], where, id) : next;
      if (floor > next) throw new CheckpointError(where, `floor ${floor} of ${id} is above next ${next}`);
      splits.set(id, { next, floor });
    }
  }
  const sp = o.sourcePosition;
  if (sp !== null && sp !== undefined && typeof sp !== 'string') throw new CheckpointError(where, '"sourcePosition" must be a string or null');
  return { splits, sourcePosition: sp ?? null };
}

/**
 * The checkpoint of a new commit: the previous one advanced by what this batch
 * consumed. `next` never moves back; `floor` is the new value when given (it can be
 * lower than before only if the caller computed it so – it stays ≤ next).
 */
export function mergeCheckpoint(
  prev: Checkpoint,
  consumed: Map<SplitId, { next: bigint; floor?: bigint }>,
  sourcePosition: string | null,
): Checkpoint {
  const splits = new Map(prev.splits);
  for (const [id, c] of consumed) {
    const old = splits.get(id);
    const next = old && old.next > c.next ? old.next : c.next;
    let floor = c.floor ?? c.next;
    if (floor > next) floor = next;
    splits.set(id, { next, floor });
  }
  return { splits, sourcePosition: sourcePosition ?? prev.sourcePosition };
}

/**
 * Where to start each assigned split: the minimum floor over the tables whose
 * checkpoints name it. Splits no table names are absent (start at the earliest offset).
 */
export function startOffsets(splits: Iterable<SplitId>, checkpoints: Iterable<Checkpoint>): Map<SplitId, bigint> {
  const all = [...checkpoints];
  const out = new Map<SplitId, bigint>();
  for (const id of splits) {
    let min: bigint | undefined;
    for (const c of all) {
      const s = c.splits.get(id);
      if (s && (min === undefined || s.floor < min)) min = s.floor;
    }
    if (min !== undefined) out.set(id, min);
  }
  return out;
}

/** Whether a record at `offset` of `split` is new for the table with checkpoint `c`. */
export function isUnconsumed(c: Checkpoint | undefined, split: SplitId, offset: bigint): boolean {
  const s = c?.splits.get(split);
  return s === undefined || offset >= s.next;
}

/**
 * The checkpoint to write with a table's commit of a batch: `prev` advanced by the
 * batch's consumed ranges, each split's floor lowered to the first offset another
 * table still buffers from it (`pendingFloor`, e.g. `BufferSet.pendingFloor(split, table)`).
 */
export function checkpointForCommit(
  prev: Checkpoint,
  consumed: Map<SplitId, { next: bigint }>,
  sourcePosition: string | null,
  pendingFloor: (split: SplitId) => bigint | undefined,
): Checkpoint {
  const withFloors = new Map<SplitId, { next: bigint; floor: bigint }>();
  for (const [id, c] of consumed) {
    const pending = pendingFloor(id);
    withFloors.set(id, { next: c.next, floor: pending !== undefined && pending < c.next ? pending : c.next });
  }
  return mergeCheckpoint(prev, withFloors, sourcePosition);
}
