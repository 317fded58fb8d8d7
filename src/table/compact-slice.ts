import type { ObjectStore } from '../storage/object-store.js';
import { writeBaseFile } from './base-file.js';
import type { FileSlice } from './fs-view.js';
import { mergeSlice } from './merge.js';
import type { Row, TableSchema } from './schema.js';
import { foldBlocks, readSlice, sliceLogBlocks, type SliceReadOptions } from './slice-reader.js';
import { toBig } from './table.js';
import { carryForward, encodeTombstones, type Tombstones } from './tombstone.js';

/**
 * The CPU part of compacting one file slice: read its base and logs, keep the latest
 * record per key with deletes applied, write the new base file's bytes. No writes, no
 * timeline: `compaction.ts` owns the protocol. Input and output are plain data, so this
 * runs on the ingest thread or in a worker thread (`compaction-thread.ts`) alike.
 */

export interface SliceCompactionInput {
  slice: FileSlice;
  readOpts: SliceReadOptions;
  /** The table schema with the `_hoodie_*` fields. */
  schema: TableSchema;
  /** File name of the new base file (its `_hoodie_file_name`). */
  baseName: string;
  /** Deletes the previous compaction carried into this slice. */
  carried: Tombstones;
}

export interface SliceCompactionOutput {
  /** The new base file. */
  base: Uint8Array;
  /** The slice's tombstones to carry on (encoded), or null when none are left. */
  tombstones: Uint8Array | null;
  rows: number;
  /** Keys of the old base file that the logs deleted. */
  deletesOfBaseKeys: number;
  /** Rows written whose key was in the old base file, and rows whose key is new. */
  updates: number;
  inserts: number;
  logRecords: number;
  logDeletes: number;
  logBlocks: number;
}

export async function compactSlice(store: ObjectStore, input: SliceCompactionInput): Promise<SliceCompactionOutput> {
  const { rows, tombstones, counts } = await latestRows(store, input);
  await collectGarbage();
  return { base: writeBaseFile(input.schema, rows), tombstones, rows: rows.length, ...counts };
}

/**
 * The slice's old base rows, log bytes and merge maps are garbage once the latest rows are
 * known, but V8 grows the heap for the base-file write (rows → Arrow → IPC → wasm) rather
 * than collect them first. Where `gc` is exposed (`--expose-gc`, the CLI's node flags) a
 * major collection runs here, marking on a helper thread where it can: a 1M-row table's
 * compaction peaked at 365–372 MiB instead of 436–441, the daemon's at 474–517 instead of
 * 554 (bench/RESULTS.md). Without the flag (the library in someone else's process) nothing
 * happens.
 */
async function collectGarbage(): Promise<void> {
  if (globalThis.gc !== undefined) await globalThis.gc({ type: 'major', execution: 'async' });
}

type SliceCounts = Omit<SliceCompactionOutput, 'base' | 'tombstones' | 'rows'>;

/**
 * The slice's latest rows (named for the new base file) and what the commit stats count. A
 * function of its own so the base file's rows, the log files' bytes and the merge maps are
 * garbage before the Parquet write, which then holds only the rows it writes.
 */
async function latestRows(store: ObjectStore, input: SliceCompactionInput): Promise<{ rows: Row[]; tombstones: Uint8Array | null; counts: SliceCounts }> {
  const { slice, readOpts, baseName, carried } = input;
  const base = await readSlice(store, { ...slice, logs: [] }, readOpts);
  const baseKeys = new Set<string>();
  for (const r of base.base) baseKeys.add(r.key);
  const { blocks } = await sliceLogBlocks(store, slice.logs, readOpts);
  const { log, records: logRecords, deletes: logDeletes, instants } = foldBlocks(blocks, readOpts.orderingField, { winnersOnly: true });
  const merged = mergeSlice(base.base, log.states);
  const deletes: [string, bigint][] = [];
  for (const [key, d] of merged.deletes) deletes.push([key, toBig(d.ordering)]);
  const kept = carryForward(carried, merged.records, deletes);
  const rows: Row[] = [];
  let updates = 0;
  for (const [key, r] of merged.records) {
    // The rows were decoded for this compaction alone: name their new file in place, no copy.
    r.row._hoodie_file_name = baseName;
    rows.push(r.row);
    if (baseKeys.has(key)) updates++;
  }
  let deletesOfBaseKeys = 0;
  for (const key of merged.deletes.keys()) if (baseKeys.has(key)) deletesOfBaseKeys++;
  return {
    rows,
    tombstones: kept.size > 0 ? encodeTombstones(kept) : null,
    counts: { deletesOfBaseKeys, updates, inserts: rows.length - updates, logRecords, logDeletes, logBlocks: instants.size },
  };
}
