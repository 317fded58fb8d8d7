import { randomInt } from 'node:crypto';
import { baseFileName, logFileName, newFileId } from '../hudi/file-name.js';
import { InstantClock, type Instant } from '../hudi/instant.js';
import { avroDataBlock, decodeAvroDatum, deleteBlock, encodeLogBlock, type DeleteRecord } from '../hudi/log-block.js';
import { PARTITION_METADATA_FILE, partitionDepth, renderPartitionMetadata } from '../hudi/partition-metadata.js';
import { renderTableProperties } from '../hudi/properties.js';
import {
  serializeCommitMetadata, writeStat, type CommitMetadata, type ReplaceCommitMetadata, type WriteStat,
} from '../hudi/commit-metadata.js';
import type { ObjectStore } from '../storage/object-store.js';
import { PROPERTIES_PATH, TableConfigError, parseTableConfig, tableProperties, type TableConfig } from './config.js';
import { FileSystemView, groupKey, selectSlices, type FileSlice } from './fs-view.js';
import { META_FIELDS, commitSeqno, withMetaFields } from './meta-fields.js';
import { writeBaseFile, type MetaColumns, type WriteColumns } from './base-file.js';
import { partitionPath } from './partition.js';
import { bucketFileIdPrefix, bucketOf, bucketOfFileId, recordKey } from './record-key.js';
import { evolveSchema } from './schema-evolution.js';
import { ORDERING_FIELD, type Row, type TableSchema, type Value } from './schema.js';
import { readMergedSlice } from './slice-reader.js';
import { InstantConflict, Timeline, joinPath, readFenceClaims, type Committed, type TimelineInstant } from './timeline.js';
import { decide, fillUnavailable, latestPerKey, type Mutation, type OrderingRule } from './write-plan.js';
import { FileGroupKeys, type KeyIndexBudget } from './key-index.js';
import { rollbackInstant, sweepFilesOf } from './rollback.js';
import { carriedDeletes } from './tombstone.js';
import type { EncodedUpserts } from './encoded-upserts.js';

/**
 * One Hudi v6 Merge-On-Read table: opening/creating it, and the write path
 * (deltacommits, truncates). Reads, compaction and cleaning build on the same
 * view of the timeline and files (`reader.ts`, `compaction.ts`, `cleaner.ts`).
 *
 * A table has one writer at a time (design brief §3.4). The writer keeps, per
 * file group it touched, the ordering value of every key, so each commit can
 * apply the source-order guard without re-reading the table.
 */

export interface CommitRequest {
  /** The data schema of these rows (source columns + `_cdc_*`), without meta fields. */
  schema: TableSchema;
  mutations: Mutation[];
  /** Upserts whose rows arrive Avro-encoded (the JSON fast path's), beside `mutations`. */
  encoded?: EncodedUpserts;
  /** Caller metadata stored in the commit (e.g. the Kafka checkpoint). */
  extraMetadata?: Record<string, string>;
}

export interface CommitResult {
  /** Undefined when nothing needed to be written. */
  instant?: string;
  upserts: number;
  deletes: number;
  /** Mutations skipped by the source-order guard (stale or duplicate). */
  skipped: number;
  filesWritten: number;
  bytesWritten: number;
}

export interface OpenOptions {
  /** Called for every object written, for metrics. */
  onFileWritten?: (path: string, bytes: number) => void;
  /** Bounds the key indexes of all tables that share it (the daemon's `buffer.keyIndexBytes`). */
  keyIndexBudget?: KeyIndexBudget;
}

export const SCHEMA_KEY = 'schema';
export const TEMP_DIR = '.hoodie/.temp';

interface GroupWrite {
  partition: string;
  bucket: number;
  upserts: Row[];
  /** Record key of each upsert (same index), computed once per commit. */
  upsertKeys: string[];
  /**
   * Ordering value written for each upsert (same index), as a side column: the caller's
   * rows are not modified (a BigInt stored into each kept row grew the live heap).
   */
  orderings: bigint[];
  deletes: { key: string; ordering: bigint }[];
  /** Upserts spliced from the commit's encoded rows (their indices), after `upserts`: their keys and orderings follow those of `upserts`. */
  encoded: number[];
}

export class TableNotFound extends Error {
  override readonly name = 'TableNotFound';
}

export class HudiTable {
  private keyIndex = new Map<string, FileGroupKeys>();
  /** Replaced file group → the replacecommit that replaced it. */
  private replaced = new Map<string, string>();
  private recovered = false;
  /** (partition, bucket) → latest slice, memoised while one commit groups its keys (nothing is written meanwhile). */
  private sliceMemo: Map<string, FileSlice | undefined> | undefined;

  private constructor(
    readonly store: ObjectStore,
    readonly base: string,
    readonly config: TableConfig,
    public timeline: Timeline,
    public view: FileSystemView,
    public schema: TableSchema | undefined,
    private readonly clock: InstantClock,
    private readonly opts: OpenOptions,
  ) {}

  static async exists(store: ObjectStore, base: string): Promise<boolean> {
    return (await store.head(joinPath(base, PROPERTIES_PATH))) !== undefined;
  }

  /** Creates the table (writes `hoodie.properties`) unless it exists, then opens it. */
  static async create(store: ObjectStore, base: string, config: Omit<TableConfig, 'tableVersion' | 'tableType'>, opts: OpenOptions = {}): Promise<HudiTable> {
    if (!(await HudiTable.exists(store, base))) {
      const full: TableConfig = { ...config, tableVersion: 6, tableType: 'MERGE_ON_READ' };
      await store.createIfAbsent(joinPath(base, PROPERTIES_PATH), renderTableProperties(tableProperties(full)));
      // Java readers find the partitions of a non-partitioned table by this file in the base path.
      if (config.partitionField === undefined) await writePartitionMetadata(store, base, '', '00000000000000000');
    }
    return HudiTable.open(store, base, opts);
  }

  static async open(store: ObjectStore, base: string, opts: OpenOptions = {}): Promise<HudiTable> {
    const path = joinPath(base, PROPERTIES_PATH);
    const props = await store.head(path);
    if (props === undefined) throw new TableNotFound(`no Hudi table at ${store.uri.replace(/\/$/, '')}/${base}: ${path} does not exist`);
    const config = parseTableConfig(Buffer.from(await store.get(path)).toString('utf8'), path);
    const [timeline, view] = await Promise.all([Timeline.load(store, base), FileSystemView.load(store, base)]);
    const table = new HudiTable(store, base, config, timeline, view, undefined, new InstantClock(timeline.lastInstantTime()), opts);
    await table.loadState();
    return table;
  }

  private async loadState(): Promise<void> {
    const schemaText = await this.timeline.latestExtraMetadata(SCHEMA_KEY);
    this.schema = schemaText === undefined ? undefined : (JSON.parse(schemaText) as TableSchema);
    this.replaced = await replacedGroups(this.timeline);
  }

  /** Re-reads the timeline and the file listing (after another process changed the table). */
  async refresh(): Promise<void> {
    [this.timeline, this.view] = await Promise.all([Timeline.load(this.store, this.base), FileSystemView.load(this.store, this.base)]);
    const last = this.timeline.lastInstantTime();
    if (last !== undefined) this.clock.observe(last);
    await this.loadState();
    for (const keys of this.keyIndex.values()) this.opts.keyIndexBudget?.forget(keys);
    this.keyIndex.clear();
  }

  get name(): string {
    return `${this.config.database}.${this.config.tableName}`;
  }

  /** The newest value of `key` in a completed commit's extraMetadata. */
  latestExtraMetadata(key: string): Promise<string | undefined> {
    return this.timeline.latestExtraMetadata(key);
  }

  /** The file slices a reader at `asOf` (default: latest completed) sees. */
  liveSlices(asOf?: string): FileSlice[] {
    const at = asOf ?? this.timeline.lastCompleted()?.timestamp ?? '';
    return selectSlices(this.view, {
      asOf: at,
      completed: this.timeline.committed(),
      replaced: this.replacedAsOf(at),
    });
  }

  private replacedAsOf(asOf: string): Set<string> {
    return new Set([...this.replaced].filter(([, at]) => at <= asOf).map(([k]) => k));
  }

  // --- recovery -----------------------------------------------------------

  /**
   * Settles every incomplete instant before the first write, so no reader ever sees partial
   * data: one whose writer claimed the fence for it is complete in all but its completed
   * file and is rolled forward; the others are fenced out (their writers can no longer
   * complete them) and rolled back. Returns the instants rolled back.
   */
  async recover(): Promise<string[]> {
    if (this.config.tableVersion !== 6 || this.config.tableType !== 'MERGE_ON_READ') {
      // Reading other versions is refused by the reader; writing would corrupt them.
      throw new TableConfigError(`${this.name} is a ${this.config.tableType} table of version ${this.config.tableVersion}; cdc-lake writes only MERGE_ON_READ tables of version 6`);
    }
    const pending = this.timeline.pending();
    const rolledBack: string[] = [];
    if (pending.length > 0) {
      const claims = new Map((await readFenceClaims(this.store, this.base)).map((c) => [c.instant, c]));
      const failed: TimelineInstant[] = [];
      for (const p of pending) {
        const claim = claims.get(p.timestamp);
        if (claim?.content === undefined || claim.action !== p.action) failed.push(p);
        else {
          await this.timeline.rollForward(p, claim.content);
          await this.removeMarkers(p.timestamp);
        }
      }
      const rollbackTimes = failed.map(() => this.clock.next());
      if (failed.length > 0) await this.timeline.fenceOut(rollbackTimes[0] as string, failed.map((p) => p.timestamp));
      for (const [i, p] of failed.entries()) {
        await rollbackInstant(this, p, rollbackTimes[i] as string);
        rolledBack.push(p.timestamp);
      }
      await this.refresh();
    }
    this.recovered = true;
    return rolledBack;
  }

  private async ensureRecovered(): Promise<void> {
    if (!this.recovered) await this.recover();
  }

  nextInstant(): string {
    return this.clock.next();
  }

  /** Hudi write token `<bucket>-<writer>-0`: the writer number keeps two writers' file names apart. */
  writeToken(bucket: number): string {
    return `${bucket}-${this.writerId}-0`;
  }

  private readonly writerId = randomInt(1, 1_000_000_000);

  // --- the write path -----------------------------------------------------

  /** Source positions are unique per change; any other ordering field merges as Hudi's precombine field does. */
  private orderingRule(): OrderingRule {
    return this.config.orderingField === ORDERING_FIELD ? 'position' : 'precombine';
  }

  /**
   * Whether encoded upserts can be spliced into log blocks as they are: written in the schema
   * this commit writes, keyed by the table's one key column, ordered by source position, and
   * without a partition path to read from their values.
   */
  private splices(enc: EncodedUpserts, schema: TableSchema, evolved: boolean, rule: OrderingRule): boolean {
    const keys = this.config.recordKeyFields;
    return rule === 'position' && !evolved && this.config.partitionField === undefined && keys.length === 1 && keys[0] === enc.keyField && JSON.stringify(enc.schema) === JSON.stringify(schema);
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    await this.ensureRecovered();
    const result: CommitResult = { upserts: 0, deletes: 0, skipped: 0, filesWritten: 0, bytesWritten: 0 };
    let enc = req.encoded !== undefined && req.encoded.count > 0 ? req.encoded : undefined;
    if (req.mutations.length === 0 && enc === undefined && req.extraMetadata === undefined) return result;
    const evolution = evolveSchema(this.schema, req.schema, this.name);
    const schema = evolution.schema;
    const rule = this.orderingRule();
    let mutations = req.mutations;
    if (enc !== undefined && !this.splices(enc, schema, evolution.changed, rule)) {
      mutations = [...mutations, ...decodedUpserts(enc)];
      enc = undefined;
    }
    const latest = latestPerKey(mutations, (m) => recordKey(m.row, this.config.recordKeyFields), rule);
    result.skipped += mutations.length - latest.size;
    // A key among both (not from the pipeline's buffer, which keeps one change per key): the newer stays.
    const unique = latest.size;
    const outranked = enc === undefined ? undefined : outrankedUpserts(enc, latest);
    result.skipped += (outranked?.size ?? 0) + unique - latest.size;

    // Group by file group (partition + bucket) and apply the guard against stored state.
    // Keyed by bucket alone in a non-partitioned table (the usual case): no string per mutation.
    const groups = new Map<string | number, GroupWrite & { keys: FileGroupKeys }>();
    const partitionType = this.config.partitionField === undefined ? undefined : schema.fields.find((f) => f.name === this.config.partitionField)?.type;
    // Awaited only for a group not met yet: most mutations find theirs without a microtask.
    const addGroup = async (gk: string | number, partition: string, bucket: number): Promise<GroupWrite & { keys: FileGroupKeys }> => {
      const g = { ...emptyWrite(partition, bucket), keys: await this.groupKeys(partition, bucket) };
      groups.set(gk, g);
      return g;
    };
    this.sliceMemo = new Map();
    try {
    for (const [key, m] of latest) {
      const partition = this.config.partitionField === undefined ? '' : await this.partitionOf(key, m, partitionType);
      const bucket = bucketOf(key, this.config.recordKeyFields, this.config.buckets);
      const gk = partition === '' ? bucket : `${partition}\u0000${bucket}`;
      const g = groups.get(gk) ?? (await addGroup(gk, partition, bucket));
      const stored = g.keys.get(key);
      const decided = decide(m, stored, rule);
      if (decided === undefined) {
        result.skipped++;
        continue;
      }
      const ordering = decided.ordering;
      if (decided.kind === 'delete') {
        // Written even when the key is absent: the delete block keeps its position, so a stale
        // older upsert arriving later (another partition, a replay) cannot resurrect the key.
        g.deletes.push({ key, ordering });
      } else if (m.kind === 'upsert') {
        const storedRow = m.unavailable?.length ? await this.storedRow(partition, bucket, key) : undefined;
        g.upserts.push(fillUnavailable(m.row, m.unavailable, storedRow));
        g.upsertKeys.push(key);
        g.orderings.push(ordering);
      }
    }
    // Spliced rows: a table that is not partitioned (`splices`), so the bucket alone names the group.
    for (let i = 0; enc !== undefined && i < enc.count; i++) {
      const key = enc.key(i);
      if (outranked?.has(key)) continue;
      const bucket = bucketOf(key, this.config.recordKeyFields, this.config.buckets);
      const g = groups.get(bucket) ?? (await addGroup(bucket, '', bucket));
      const m: Mutation = { kind: 'upsert', ordering: enc.ordering(i), row: NO_ROW };
      const decided = decide(m, g.keys.get(key), rule);
      if (decided === undefined) {
        result.skipped++;
        continue;
      }
      g.upsertKeys.push(key);
      g.orderings.push(decided.ordering);
      g.encoded.push(i);
    }
    } finally {
      this.sliceMemo = undefined;
    }
    const writes = [...groups.values()].filter((g) => g.upserts.length > 0 || g.encoded.length > 0 || g.deletes.length > 0);
    if (writes.length === 0 && !evolution.changed && req.extraMetadata === undefined) return result;

    const instant = this.clock.next();
    await this.timeline.request(instant, 'deltacommit');
    await this.timeline.inflight(instant, 'deltacommit');
    const stats: WriteStat[] = [];
    const fullSchema = withMetaFields(schema);
    const newPartitions = new Set<string>();
    if (evolution.changed && this.schema !== undefined) {
      // hudi-rs joins log records to base rows by position: a new layout needs new base files everywhere.
      const byGroup = new Map(writes.map((w) => [`${w.partition}\u0000${w.bucket}`, w]));
      for (const slice of this.liveSlices()) {
        const bucket = bucketOfFileId(slice.fileId) ?? -1;
        const w = byGroup.get(`${slice.partition}\u0000${bucket}`) ?? emptyWrite(slice.partition, bucket);
        byGroup.delete(`${slice.partition}\u0000${bucket}`);
        stats.push(...(await this.rewriteGroup(instant, slice, w, fullSchema, result)));
      }
      for (const w of byGroup.values()) stats.push(...(await this.writeNewGroup(instant, w, fullSchema, result, newPartitions)));
    } else {
      // File groups are written concurrently: each encodes synchronously up to its first storage
      // call, then their writes and fsyncs overlap. All are durable before the commit completes.
      const live = this.liveSlices();
      const perGroup = await Promise.all(
        writes.map(async (w) => {
          const slice = live.find((s) => s.partition === w.partition && bucketOfFileId(s.fileId) === w.bucket);
          if (slice === undefined) return this.writeNewGroup(instant, w, fullSchema, result, newPartitions, enc);
          return [await this.appendLog(instant, slice, w, fullSchema, result, enc)];
        }),
      );
      for (const st of perGroup) stats.push(...st);
    }
    for (const p of newPartitions) await writePartitionMetadata(this.store, this.base, p, instant);

    const metadata: CommitMetadata = {
      partitionToWriteStats: groupStats(stats),
      compacted: false,
      extraMetadata: { ...(req.extraMetadata ?? {}), [SCHEMA_KEY]: JSON.stringify(schema) },
      operationType: 'UPSERT',
    };
    const done = await this.timeline.complete(instant, 'deltacommit', serializeCommitMetadata(metadata));
    await this.removeMarkers(instant);
    this.schema = schema;
    this.timeline = this.timeline.withCompleted(done);
    this.opts.keyIndexBudget?.settle();
    result.instant = instant;
    return result;
  }

  /** TRUNCATE: a replacecommit that replaces every live file group; readers see an empty table after it. */
  async truncate(extraMetadata: Record<string, string> = {}): Promise<string | undefined> {
    await this.ensureRecovered();
    const live = this.liveSlices();
    const instant = this.clock.next();
    await this.timeline.request(instant, 'replacecommit');
    await this.timeline.inflight(instant, 'replacecommit');
    const partitionToReplaceFileIds: Record<string, string[]> = {};
    for (const s of live) (partitionToReplaceFileIds[s.partition] ??= []).push(s.fileId);
    const metadata: ReplaceCommitMetadata = {
      partitionToWriteStats: {},
      partitionToReplaceFileIds,
      compacted: false,
      extraMetadata: { ...extraMetadata, ...(this.schema ? { [SCHEMA_KEY]: JSON.stringify(this.schema) } : {}) },
      operationType: 'DELETE_PARTITION',
    };
    const done = await this.timeline.complete(instant, 'replacecommit', serializeCommitMetadata(metadata));
    for (const s of live) {
      this.replaced.set(groupKey(s.partition, s.fileId), instant);
      this.unindexKeys(groupKey(s.partition, s.fileId));
    }
    this.timeline = this.timeline.withCompleted(done);
    return instant;
  }

  // --- helpers ------------------------------------------------------------

  private async partitionOf(key: string, m: Mutation, partitionType: TableSchema['fields'][number]['type'] | undefined): Promise<string> {
    const field = this.config.partitionField;
    if (field === undefined) return '';
    if (m.row[field] !== undefined) return partitionPath(field, m.row[field], partitionType);
    // A delete without the partition value (REPLICA IDENTITY DEFAULT): find the key's file group.
    const bucket = bucketOf(key, this.config.recordKeyFields, this.config.buckets);
    for (const p of this.view.partitions()) {
      const keys = await this.groupKeys(p, bucket);
      if (keys.get(key)?.deleted === false) return p;
    }
    return partitionPath(field, null, partitionType);
  }

  private latestSliceOf(partition: string, bucket: number): FileSlice | undefined {
    const memo = this.sliceMemo;
    const k = `${partition}\u0000${bucket}`;
    if (memo?.has(k)) return memo.get(k);
    const slice = this.liveSlices().find((s) => s.partition === partition && bucketOfFileId(s.fileId) === bucket);
    memo?.set(k, slice);
    return slice;
  }

  /** Slice-read options at the latest completed instant (shared with compaction). */
  /** How to read a slice as of `asOf` (default: the latest completed instant): the one place readers and the writer get it. */
  readOpts(asOf?: string): { asOf: string; completed: Committed; orderingField: string; schema?: TableSchema } {
    const completed = this.timeline.committed();
    return { asOf: asOf ?? this.timeline.lastCompleted()?.timestamp ?? '', completed, orderingField: this.config.orderingField, ...(this.schema ? { schema: withMetaFields(this.schema) } : {}) };
  }

  /** Key → ordering/deleted for one file group, loaded once from storage and then kept current by our writes. */
  private async groupKeys(partition: string, bucket: number): Promise<FileGroupKeys> {
    const slice = this.latestSliceOf(partition, bucket);
    const k = slice === undefined ? `${partition}\u0000#${bucket}` : groupKey(partition, slice.fileId);
    let keys = this.indexedKeys(k);
    if (keys === undefined) {
      keys = new FileGroupKeys();
      if (slice !== undefined) {
        const merged = await readMergedSlice(this.store, slice, this.readOpts());
        for (const [key, r] of merged.records) keys.set(key, toBig(r.ordering), false);
        for (const [key, d] of merged.deletes) keys.set(key, toBig(d.ordering), true);
        // keys a compaction removed: their deletes' positions, kept beside the slice
        for (const [key, ordering] of await carriedDeletes(this.store, this.base, this.timeline, slice)) if (keys.get(key) === undefined) keys.set(key, ordering, true);
      }
      this.indexKeys(k, keys);
    }
    return keys;
  }

  /** A file group's keys if indexed, marked as used now. */
  private indexedKeys(k: string): FileGroupKeys | undefined {
    const keys = this.keyIndex.get(k);
    if (keys !== undefined) this.opts.keyIndexBudget?.touch(keys, () => this.dropKeys(k, keys));
    return keys;
  }

  /** Puts a file group's keys in the index, under the key index budget when there is one. */
  private indexKeys(k: string, keys: FileGroupKeys): void {
    const old = this.keyIndex.get(k);
    if (old !== undefined && old !== keys) this.opts.keyIndexBudget?.forget(old);
    this.keyIndex.set(k, keys);
    this.opts.keyIndexBudget?.touch(keys, () => this.dropKeys(k, keys));
  }

  private unindexKeys(k: string): void {
    const keys = this.keyIndex.get(k);
    if (keys === undefined) return;
    this.keyIndex.delete(k);
    this.opts.keyIndexBudget?.forget(keys);
  }

  /** The budget drops a file group's keys: the next write to it reads them from storage again. */
  private dropKeys(k: string, keys: FileGroupKeys): void {
    if (this.keyIndex.get(k) === keys) this.keyIndex.delete(k);
  }

  private async storedRow(partition: string, bucket: number, key: string): Promise<Row | undefined> {
    const slice = this.latestSliceOf(partition, bucket);
    if (slice === undefined) return undefined;
    const merged = await readMergedSlice(this.store, slice, this.readOpts());
    return merged.records.get(key)?.row;
  }

  /** Writes a data file after its marker (shared with compaction, so rollback finds every file). */
  async put(path: string, bytes: Uint8Array, instant: string, partition: string, name: string, kind: 'CREATE' | 'APPEND'): Promise<void> {
    // The marker names the file before it exists, so a crash leaves a list for rollback.
    await this.store.put(joinPath(this.base, TEMP_DIR, instant, partition, `${name}.marker.${kind}`), '');
    // Never overwrite: a file that exists belongs to another writer (names carry this writer's token).
    if (!(await this.store.createIfAbsent(path, bytes))) throw new InstantConflict(path);
    this.opts.onFileWritten?.(path, bytes.byteLength);
  }

  /** Deletes data files and drops them from the view, one at a time and in order (callers delete logs before their base). */
  async removeFiles(files: readonly { partition: string; name: string; path: string }[]): Promise<void> {
    for (const f of files) {
      await this.store.delete(f.path);
      this.view.removeFile(f.partition, f.name);
    }
  }

  /**
   * Removes this writer's instant whose completion was refused (`InstantConflict.refused`): its
   * files and pending states, without a rollback instant — nobody can complete it, and a table
   * with several writers (the dead-letter table) should not keep it pending until it is rolled
   * back as abandoned.
   */
  async discardRefused(refused: Instant): Promise<void> {
    await sweepFilesOf(this, refused.timestamp);
    await this.timeline.removePending(refused.timestamp, refused.action);
  }

  async removeMarkers(instant: string): Promise<void> {
    const markers = await this.store.list(`${joinPath(this.base, TEMP_DIR, instant)}/`);
    await Promise.all(markers.map((m) => this.store.delete(m.key)));
  }

  /** A group's upserts with the meta fields and ordering added (only the rare schema-rewrite path copies rows; see `upsertColumns`). */
  private metaRows(w: GroupWrite, instant: string, fileName: string): Row[] {
    const cols = this.upsertColumns(w, instant, fileName);
    const names = [...META_FIELDS, this.config.orderingField];
    return w.upserts.map((row, i) => {
      const out: Row = { ...row };
      for (const f of names) out[f] = (cols[f] as readonly Value[])[i] as Value;
      return out;
    });
  }

  /** The side columns of a group's upserts: the `_hoodie_*` fields and the ordering value written. */
  private upsertColumns(w: GroupWrite, instant: string, fileName: string): WriteColumns {
    return { ...metaColumns(w.upsertKeys, instant, w.partition, w.bucket, fileName), [this.config.orderingField]: w.orderings };
  }

  /** A new file group: a base file of its upserts (empty when it only has deletes) and, for deletes, a log of the new slice. */
  private async writeNewGroup(instant: string, w: GroupWrite, schema: TableSchema, result: CommitResult, newPartitions: Set<string>, enc?: EncodedUpserts): Promise<WriteStat[]> {
    const keys = await this.groupKeys(w.partition, w.bucket);
    // Hudi's bucket index names file groups `<8-digit bucket>-<rest of a uuid>-0`.
    const fileId = `${bucketFileIdPrefix(w.bucket)}${newFileId().slice(8)}`;
    const name = baseFileName({ fileId, writeToken: this.writeToken(w.bucket), instant });
    // A base file is written from row values: encoded upserts are decoded for it.
    const rows = enc === undefined || w.encoded.length === 0 ? w.upserts : [...w.upserts, ...decodedRows(enc, w.encoded)];
    const bytes = writeBaseFile(schema, rows, this.upsertColumns(w, instant, name));
    const path = joinPath(this.base, w.partition, name);
    if (!this.view.partitions().includes(w.partition)) newPartitions.add(w.partition);
    await this.put(path, bytes, instant, w.partition, name, 'CREATE');
    this.view.addFile(w.partition, name, path, bytes.byteLength);
    // Re-key the cache entry from the bucket placeholder to the new file group.
    this.unindexKeys(`${w.partition}\u0000#${w.bucket}`);
    const fresh = keys.clone();
    setUpserted(fresh, w);
    this.indexKeys(groupKey(w.partition, fileId), fresh);
    result.upserts += rows.length;
    result.filesWritten++;
    result.bytesWritten += bytes.byteLength;
    const stats = [baseStat(fileId, w.partition, name, rows.length, 0, bytes.byteLength, 'null')];
    if (w.deletes.length > 0) {
      const slice: FileSlice = { partition: w.partition, fileId, baseInstant: instant, base: { path, name, fileId, instant, size: bytes.byteLength }, logs: [] };
      stats.push(await this.appendLog(instant, slice, { ...emptyWrite(w.partition, w.bucket), deletes: w.deletes }, schema, result));
    }
    return stats;
  }

  private async appendLog(instant: string, slice: FileSlice, w: GroupWrite, schema: TableSchema, result: CommitResult, enc?: EncodedUpserts): Promise<WriteStat> {
    const version = Math.max(0, ...slice.logs.map((l) => l.version)) + 1;
    const name = logFileName({ fileId: slice.fileId, baseInstant: slice.baseInstant, version, writeToken: this.writeToken(w.bucket) });
    const schemaText = JSON.stringify(schema);
    const blocks: Uint8Array[] = [];
    const upserts = w.upserts.length + w.encoded.length;
    if (upserts > 0) {
      const columns = this.upsertColumns(w, instant, slice.fileId);
      // Encoded rows are the data fields in this schema (`splices`): only the meta fields go before them.
      const tails = enc === undefined || w.encoded.length === 0 ? undefined : { lead: META_FIELDS.length, count: w.encoded.length, tail: (j: number) => enc.datum(w.encoded[j] as number) };
      blocks.push(encodeLogBlock(avroDataBlock({ instantTime: instant, schema: schemaText, rows: w.upserts, columns, ...(tails ? { tails } : {}) })));
    }
    if (w.deletes.length > 0) {
      // The real ordering value (Java's wrapper union, read by Spark and hudi-rs 0.5) keeps the delete's
      // position on storage: a later, staler upsert cannot resurrect the key after a restart.
      const records: DeleteRecord[] = w.deletes.map((d) => ({ recordKey: d.key, partitionPath: w.partition, orderingVal: d.ordering }));
      blocks.push(encodeLogBlock(deleteBlock({ instantTime: instant, schema: schemaText, records, orderingEncoding: 'java-wrapper' })));
    }
    // One block (the usual case) is written as is: no second copy of a multi-megabyte buffer.
    const bytes = blocks.length === 1 ? (blocks[0] as Uint8Array) : Buffer.concat(blocks);
    const path = joinPath(this.base, w.partition, name);
    await this.put(path, bytes, instant, w.partition, name, 'APPEND');
    this.view.addFile(w.partition, name, path, bytes.byteLength);
    const keys = this.indexedKeys(groupKey(w.partition, slice.fileId)) ?? (await this.groupKeys(w.partition, w.bucket));
    setUpserted(keys, w);
    for (const d of w.deletes) keys.set(d.key, d.ordering, true);
    result.upserts += upserts;
    result.deletes += w.deletes.length;
    result.filesWritten++;
    result.bytesWritten += bytes.byteLength;
    return {
      ...baseStat(slice.fileId, w.partition, name, upserts, w.deletes.length, bytes.byteLength, slice.baseInstant),
      baseFile: slice.base?.name ?? '',
      logFiles: [name],
      logVersion: version,
      logOffset: 0,
    };
  }

  /**
   * Writes a new base file for a whole file group: its merged rows with this commit's
   * upserts applied. Its deletes also go to a delete block in a log of the new slice, so
   * the change history (`changes` queries) still sees them.
   */
  private async rewriteGroup(instant: string, slice: FileSlice, w: GroupWrite, schema: TableSchema, result: CommitResult): Promise<WriteStat[]> {
    const merged = await readMergedSlice(this.store, slice, this.readOpts());
    const rows = new Map<string, Row>();
    for (const [key, r] of merged.records) rows.set(key, r.row);
    for (const d of w.deletes) rows.delete(d.key);
    const name = baseFileName({ fileId: slice.fileId, writeToken: this.writeToken(w.bucket), instant });
    const fresh = this.metaRows(w, instant, name);
    for (const r of fresh) rows.set(String(r._hoodie_record_key), r);
    // Rows carried over keep their commit time and seqno, so incremental reads do not re-emit them.
    const all = [...rows.values()].map((r): Row => ({ ...r, _hoodie_file_name: name }));
    const bytes = writeBaseFile(schema, all);
    const path = joinPath(this.base, w.partition, name);
    await this.put(path, bytes, instant, w.partition, name, 'CREATE');
    this.view.addFile(w.partition, name, path, bytes.byteLength);
    const keys = new FileGroupKeys();
    for (const r of all) keys.set(String(r._hoodie_record_key), toBig(r[this.config.orderingField] ?? 0n), false);
    for (const d of w.deletes) keys.set(d.key, d.ordering, true);
    this.indexKeys(groupKey(w.partition, slice.fileId), keys);
    result.upserts += w.upserts.length;
    result.filesWritten++;
    result.bytesWritten += bytes.byteLength;
    const stats = [baseStat(slice.fileId, w.partition, name, all.length, 0, bytes.byteLength, slice.baseInstant)];
    if (w.deletes.length > 0) {
      const newSlice: FileSlice = { partition: w.partition, fileId: slice.fileId, baseInstant: instant, base: { path, name, fileId: slice.fileId, instant, size: bytes.byteLength }, logs: [] };
      stats.push(await this.appendLog(instant, newSlice, { ...emptyWrite(w.partition, w.bucket), deletes: w.deletes }, schema, result));
    }
    return stats;
  }
}


/** A file group's write with nothing in it yet. */
function emptyWrite(partition: string, bucket: number): GroupWrite {
  return { partition, bucket, upserts: [], upsertKeys: [], orderings: [], deletes: [], encoded: [] };
}

const NO_ROW: Row = Object.freeze({}) as Row;

/** Encoded upserts as mutations, for a commit that cannot splice them. */
function decodedUpserts(enc: EncodedUpserts): Mutation[] {
  const all = Array.from({ length: enc.count }, (_, i) => i);
  return decodedRows(enc, all).map((row, i): Mutation => ({ kind: 'upsert', ordering: enc.ordering(i), row }));
}

/** Some encoded upserts (by index) as rows. */
function decodedRows(enc: EncodedUpserts, indices: readonly number[]): Row[] {
  const text = JSON.stringify(enc.schema);
  return indices.map((i) => decodeAvroDatum(text, enc.datum(i)));
}

/** Keys of encoded upserts that a mutation of the same key outranks (removing from `latest` those they outrank). */
function outrankedUpserts(enc: EncodedUpserts, latest: Map<string, Mutation>): Set<string> | undefined {
  if (latest.size === 0) return undefined;
  let out: Set<string> | undefined;
  for (let i = 0; i < enc.count; i++) {
    const key = enc.key(i);
    const m = latest.get(key);
    if (m === undefined) continue;
    if (!m.unordered && m.ordering >= enc.ordering(i)) (out ??= new Set()).add(key);
    else latest.delete(key);
  }
  return out;
}

/** Records a group's upserts in its key index, each with the ordering written for it. */
function setUpserted(keys: FileGroupKeys, w: GroupWrite): void {
  for (let i = 0; i < w.upsertKeys.length; i++) keys.set(w.upsertKeys[i] as string, w.orderings[i] as bigint, false);
}

/** The five `_hoodie_*` values of each row, as columns (no row copies). */
export function metaColumns(keys: readonly string[], instant: string, partition: string, bucket: number, fileName: string): MetaColumns {
  const n = keys.length;
  return {
    _hoodie_commit_time: new Array<string>(n).fill(instant),
    _hoodie_commit_seqno: Array.from({ length: n }, (_x, i) => commitSeqno(instant, bucket, i)),
    _hoodie_record_key: keys,
    _hoodie_partition_path: new Array<string>(n).fill(partition),
    _hoodie_file_name: new Array<string>(n).fill(fileName),
  };
}

/** File groups replaced by completed replacecommits (TRUNCATE), with the replacing instant. */
export async function replacedGroups(timeline: Timeline): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const i of timeline.completed().filter((x) => x.action === 'replacecommit')) {
    const meta = await timeline.commitMetadata(i);
    for (const [partition, ids] of Object.entries(meta.partitionToReplaceFileIds ?? {})) {
      for (const id of ids) out.set(groupKey(partition, id), i.timestamp);
    }
  }
  return out;
}

export function toBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return 0n;
}

export function baseStat(fileId: string, partition: string, name: string, writes: number, deletes: number, bytes: number, prevCommit: string): WriteStat {
  return writeStat({
    fileId,
    path: joinPath(partition, name),
    prevCommit,
    numWrites: writes,
    numDeletes: deletes,
    numInserts: writes,
    totalWriteBytes: bytes,
    partitionPath: partition,
    fileSizeInBytes: bytes,
  });
}

export function groupStats(stats: WriteStat[]): Record<string, WriteStat[]> {
  const out: Record<string, WriteStat[]> = {};
  for (const s of stats) (out[s.partitionPath ?? ''] ??= []).push(s);
  return out;
}

export async function writePartitionMetadata(store: ObjectStore, base: string, partition: string, instant: string): Promise<void> {
  const path = joinPath(base, partition, PARTITION_METADATA_FILE);
  if ((await store.head(path)) !== undefined) return;
  await store.createIfAbsent(path, renderPartitionMetadata({ commitTime: instant, partitionDepth: partitionDepth(partition) }));
}
