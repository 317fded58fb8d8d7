import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, type Config } from '../config/index.js';
import { createDecodeContext, decodeRecord, decodeRecordAsync, InvalidRecord, SchemaTracker, type DecodeContext, type DecodeContextOptions, type Decoded } from '../debezium/index.js';
import type { ChangeEvent } from '../debezium/change-event.js';
import { decodeFast, type FastChange } from '../debezium/fast-json.js';
import { asBuffer, envelopeSchema, envelopeSpans } from '../debezium/json-text.js';
import { AvroSink } from '../hudi/avro-encoder.js';
import { dateToInstant } from '../hudi/instant.js';
import { backoffDelay, type BackoffPolicy } from '../source/backoff.js';
import type { KafkaRecordIn, RecordBatch, Source, SourceHooks, SplitId } from '../source/source.js';
import { parseSplitId } from '../source/record.js';
import { ObjectNotFound, type ObjectStore } from '../storage/object-store.js';
import { HudiTable, SCHEMA_KEY } from '../table/table.js';
import { CompactionThread } from '../table/compaction-thread.js';
import { KeyIndexBudget } from '../table/key-index.js';
import { PROPERTIES_PATH, parseTableConfig } from '../table/config.js';
import { ORDERING_FIELD, type TableSchema } from '../table/schema.js';
import { InstantConflict, Timeline, WRITER_KEY, joinPath } from '../table/timeline.js';
export { WRITER_KEY } from '../table/timeline.js';
import { withoutMetaFields } from '../table/meta-fields.js';
import { BufferSet, type TableBatch } from './buffer.js';
import { decodeOptions } from './decode-options.js';
import { CHECKPOINT_KEY, checkpointForCommit, decodeCheckpoint, emptyCheckpoint, encodeCheckpoint, isUnconsumed, startOffsets, type Checkpoint } from './checkpoint.js';
import { DEAD_LETTER_SCHEMA, DEAD_LETTER_TABLE, deadLetterMutation, type DeadLetter, type DeadLetterSink } from './dead-letters.js';
import { discoverTables } from './lake.js';
import { maintain, policyOf, settleAbandoned, type MaintenanceReport } from './maintenance.js';
import { Router, type Route } from './router.js';
import { encodeCdcColumns, isCdcColumn, toMutation, withCdcColumns } from './rows.js';
import { COLUMN_ORDERING_FIELD, orderByColumn } from './ordering.js';
import { TransactionLog, type TxnSpan } from './transaction.js';

/**
 * The ingest loop: source → decode → per-table buffers → table commits that
 * carry the checkpoint. It only wires the stages together; each rule lives in
 * its stage (decoding in `debezium/`, batching in `buffer.ts`, exactly-once
 * offsets in `checkpoint.ts`, the source-order guard in `table/write-plan.ts`).
 */

export interface PipelineEvents {
  onCommit?(table: string, instant: string, rows: number, ms: number): void;
  onDeadLetter?(letter: DeadLetter): void;
  onRecords?(table: string, n: number): void;
  /** A change event accepted into a table's buffer. */
  onChange?(table: string): void;
  /** A data file written for a table (`kind`: base or log). */
  onFileWritten?(table: string, kind: 'base' | 'log', bytes: number): void;
  /** How many splits the memory budget holds paused now. */
  onPaused?(count: number): void;
  onMaintenance?(table: string, report: MaintenanceReport): void;
  /** A due flush of `table` waited `ms` for the table's running maintenance (the pause it causes). */
  onMaintenancePause?(table: string, ms: number): void;
  /** Rows a flush held back because their source transaction is not complete yet. */
  onHeld?(table: string, rows: number): void;
}

export interface PipelineOptions {
  store: ObjectStore;
  config: Config;
  logger: Logger;
  /** Overrides of the decode options the config's `source` section gives (`decode-options.ts`). */
  decode?: Omit<DecodeContextOptions, 'tracker'>;
  deadLetterSink?: DeadLetterSink;
  events?: PipelineEvents;
  now?: () => number;
  /** Who writes (host, pid, group member): recorded in every commit under `cdc-lake.writer` (design §3.4). */
  writer?: () => WriterIdentity;
}

export interface WriterIdentity {
  host: string;
  pid: number;
  member?: string;
}

/** What this process reads and writes now (/status). */
export interface Assignment {
  splits: SplitId[];
  tables: string[];
  /** Tables whose commit was refused (another writer owns them); they come back at the next assignment. */
  lost: string[];
}

/** Thrown when `errors.tolerance=none` meets a bad record: the pipeline stops before committing its offset. */
export class PipelineStopped extends Error {
  override readonly name = 'PipelineStopped';
}

export interface RunSummary {
  records: number;
  /** Records the JSON fast path read (`source.fastPath`, `debezium/fast-json.ts`). */
  fastPath: number;
  changes: number;
  deadLetters: number;
  commits: number;
  skippedByCheckpoint: number;
}

interface OpenTable {
  route: Route;
  table: HudiTable;
  checkpoint: Checkpoint;
}

export class Pipeline {
  private readonly router: Router;
  private readonly buffers: BufferSet;
  private readonly tracker = new SchemaTracker();
  private readonly ctx: DecodeContext;
  private readonly tables = new Map<string, OpenTable>();
  /** Checkpoints of every table in the lake, by table id (the start offsets come from them). */
  private readonly checkpoints = new Map<string, Checkpoint>();
  private readonly topicTable = new Map<string, string>();
  private deadLetters: DeadLetter[] = [];
  private readonly now: () => number;
  private readonly txLog = new TransactionLog();
  private readonly align: boolean;
  /** Splits that carried only transaction metadata: never paused (holding rows waits on them). */
  private readonly metadataSplits = new Set<SplitId>();
  /** With `maintenance.compactionThread`, compaction merges file slices on a worker thread while this one keeps ingesting. */
  private readonly compactor: CompactionThread | undefined;
  /** Bounds the writers' key indexes of all tables together (`buffer.keyIndexBytes`). */
  private readonly keyIndexBudget: KeyIndexBudget;
  /** Background maintenance per table; the table's next flush waits for it (one writer at a time). */
  private readonly maintaining = new Map<string, Promise<void>>();
  /** When a due flush of a table was first deferred behind its maintenance. */
  private readonly deferredSince = new Map<string, number>();
  private source: Source | undefined;
  private readonly halfAge: number;
  /** Splits the source assigned to this process now. */
  private readonly assigned = new Set<SplitId>();
  /** Tables lost to a refused commit: their records are dropped until the next assignment re-reads them. */
  private readonly lost = new Set<string>();
  readonly summary: RunSummary = { records: 0, fastPath: 0, changes: 0, deadLetters: 0, commits: 0, skippedByCheckpoint: 0 };
  /** Topics whose table the fast path cannot write (ordered by a column, partitioned, keyed by other columns): their records skip it. */
  private readonly slowTopics = new Set<string>();
  /** The fast path encodes each row here before the buffer copies it. */
  private readonly scratch = new AvroSink(64 * 1024);
  /** The Connect schema of the last JSON envelope measured (`changeBytes` compares the next with it first). */
  private lastSchema: Buffer | undefined;

  constructor(private readonly opts: PipelineOptions) {
    this.router = new Router(opts.config);
    this.align = opts.config.transactions.align;
    this.compactor = opts.config.maintenance.compactionThread ? new CompactionThread() : undefined;
    this.keyIndexBudget = new KeyIndexBudget(opts.config.buffer.keyIndexBytes);
    this.buffers = new BufferSet({ ...opts.config.buffer, trackTransactions: this.align });
    // Subscribing to Debezium's `<prefix>.transaction` topic says the metadata is on, before its first record arrives.
    if ((opts.config.kafka?.topics ?? []).some((t) => t.endsWith('.transaction'))) this.txLog.seenMetadata = true;
    this.ctx = createDecodeContext({ ...decodeOptions(opts.config.source), ...(opts.decode ?? {}), tracker: this.tracker });
    this.now = opts.now ?? Date.now;
    this.halfAge = Math.floor(opts.config.buffer.maxAgeMs / 2);
  }

  /** The hooks a source calls: start offsets come from the tables' timelines, never from a consumer group. */
  hooks(): SourceHooks {
    return {
      // Serialized with consume/flush so a table is never reopened in the middle of its commit.
      onAssigned: (splits) => this.serial(() => this.assign(splits)),
      onRevoked: (splits) => this.serial(async () => this.revoke(splits)),
    };
  }

  /**
   * Opens the source and runs until it ends (file) or is stopped (`Source.stop`, SIGTERM), then
   * flushes and commits everything, waits for maintenance, and closes the source last: a
   * Kafka member leaves its group only after its final commits (and their group offsets),
   * so no other replica is handed its tables while they are still being written.
   * With `tickMs`, a timer flushes tables whose batch reached its age even when no
   * records arrive (idle partitions, quiet tables); it fires when the oldest batch comes
   * due (at most `tickMs` apart), so a batch is not left waiting for the next tick.
   * Stages run one at a time; maintenance runs beside them (`startMaintenance`).
   */
  async run(source: Source, opts: { tickMs?: number } = {}): Promise<RunSummary> {
    this.source = source;
    await source.open(this.hooks());
    this.joined = true;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const arm = (): void => {
      if (opts.tickMs === undefined || stopped) return;
      if (timer !== undefined) clearTimeout(timer);
      const wait = Math.max(5, Math.min(opts.tickMs, this.buffers.nextDueInMs(this.now())));
      timer = setTimeout(() => {
        timer = undefined;
        this.serial(() => this.flushDue(source)).then(arm, (e: unknown) => this.fail(e));
      }, wait);
    };
    try {
      arm();
      for await (const batch of source.batches()) {
        await this.serial(async () => {
          await this.consume(batch);
          await this.flushDue(source);
        });
        if (this.failure !== undefined) throw this.failure;
        arm();
      }
      if (this.failure !== undefined) throw this.failure;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await this.serial(() => this.flushAll(source));
    } finally {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await this.idle().catch(() => undefined);
      await this.compactor?.close();
      // Everything is committed by now: a source that cannot say goodbye (brokers gone) is no failure of the run.
      await source.close().catch((e: unknown) => {
        this.opts.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'closing the source failed; a Kafka consumer group drops this member after its session timeout');
      });
    }
    return this.summary;
  }

  private failure: unknown;

  /** A background stage failed: remember it and stop the source so `run` rethrows it. */
  private fail(e: unknown): void {
    if (this.failure === undefined) this.failure = e;
    this.source?.stop();
  }

  /** True once the source has its assignment (for /readyz). */
  joined = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly activeSplits = new Set<SplitId>();
  private readonly paused = new Set<SplitId>();

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Over the memory budget the source pauses instead of the buffers growing (design brief
   * §3.6); so do the splits of a table whose full batch waits for its maintenance.
   * Re-evaluated after every flush, which is what frees memory and lets them resume.
   */
  private backpressure(source: Source): void {
    const { pause, resume } = this.buffers.backpressure(this.activeSplits, this.deferredSince.keys());
    if (pause.length > 0) source.pause(pause);
    if (resume.length > 0) source.resume(resume);
    for (const s of pause) this.paused.add(s);
    for (const s of resume) this.paused.delete(s);
    if (pause.length > 0 || resume.length > 0) this.opts.events?.onPaused?.(this.paused.size);
  }

  /** Per table, the next offset per split its last commit recorded (consumer lag, /status). */
  committedOffsets(): Map<string, Map<SplitId, bigint>> {
    const out = new Map<string, Map<SplitId, bigint>>();
    for (const [table, c] of this.checkpoints) out.set(table, new Map([...c.splits].map(([s, o]) => [s, o.next])));
    return out;
  }

  /** The writers' key indexes: bytes held, and file groups dropped so far by `buffer.keyIndexBytes`. */
  keyIndexState(): { bytes: number; droppedGroups: number } {
    return { bytes: this.keyIndexBudget.bytes, droppedGroups: this.keyIndexBudget.evicted };
  }

  /** Per table: buffered bytes/rows and when its batch opened, for metrics and /readyz. */
  bufferState(): { table: string; bytes: number; rows: number; openedAtMs: number }[] {
    return this.buffers.stats();
  }

  /** Splits and tables this process holds now (/status). */
  assignment(): Assignment {
    const splits = [...this.assigned].sort();
    const tables = [...this.tablesReadingSplits(splits)].filter((t) => !this.lost.has(t)).sort();
    return { splits, tables, lost: [...this.lost].sort() };
  }

  /** Tables that read any of `splits`: by checkpoint, by routed topic, or by buffered records. */
  private tablesReadingSplits(splits: SplitId[]): Set<string> {
    const set = new Set(splits);
    const topics = new Set(splits.map((s) => parseSplitId(s).topic));
    const out = new Set(this.buffers.tablesReading(splits));
    for (const [table, c] of this.checkpoints) if ([...c.splits.keys()].some((s) => set.has(s))) out.add(table);
    for (const [topic, table] of this.topicTable) if (topics.has(topic)) out.add(table);
    out.delete(DEAD_LETTER_TABLE);
    return out;
  }

  /**
   * Gained splits start where the tables' timelines say NOW (design §3.1: "after every
   * rebalance, positions come from the tables' timelines"): another replica may have
   * committed to their tables since this process last looked. Tables this process keeps
   * writing are not re-read (its own view of them is current).
   */
  private async assign(splits: SplitId[]): Promise<Map<SplitId, bigint>> {
    for (const s of splits) this.assigned.add(s);
    const gained = this.tablesReadingSplits(splits);
    for (const id of await discoverTables(this.opts.store)) {
      if (id.id === DEAD_LETTER_TABLE) continue;
      const open = this.tables.get(id.id);
      if (open !== undefined && !gained.has(id.id) && !this.lost.has(id.id)) continue;
      if (open !== undefined && this.maintaining.has(id.id)) await this.maintaining.get(id.id);
      // Reopened at its next flush from the fresh timeline (fence number, file groups, schema).
      this.tables.delete(id.id);
      const timeline = await Timeline.load(this.opts.store, id.path);
      const text = await timeline.latestExtraMetadata(CHECKPOINT_KEY);
      this.checkpoints.set(id.id, text === undefined ? emptyCheckpoint() : decodeCheckpoint(text, `${id.id}@${timeline.lastCompleted()?.timestamp}`));
      const schemaText = await timeline.latestExtraMetadata(SCHEMA_KEY);
      if (schemaText !== undefined) {
        // The decoder evolves from what the table already holds, not from scratch.
        const data = withoutMetaFields(JSON.parse(schemaText) as TableSchema);
        const propsPath = joinPath(id.path, PROPERTIES_PATH);
        const keys = parseTableConfig(Buffer.from(await this.opts.store.get(propsPath)).toString('utf8'), propsPath).recordKeyFields;
        this.tracker.seed(id.id, { ...data, fields: data.fields.filter((f) => !isCdcColumn(f.name)) }, keys);
      }
    }
    for (const t of this.tablesReadingSplits(splits)) this.lost.delete(t);
    return startOffsets(splits, this.checkpoints.values());
  }

  /** Revoked splits' tables drop their buffers (the new owner re-reads those records) and are closed. */
  private revoke(splits: SplitId[]): void {
    const tables = this.tablesReadingSplits(splits);
    for (const s of splits) this.assigned.delete(s);
    for (const t of tables) this.closeTable(t);
    if (tables.size > 0) this.opts.logger.info({ tables: [...tables].sort(), splits }, 'partitions revoked: their tables are closed and their buffers dropped');
  }

  private closeTable(table: string): void {
    this.buffers.discard(table);
    this.tables.delete(table);
    this.deferredSince.delete(table);
  }

  /**
   * A refused commit (another writer completed an instant of the table since this process
   * read it) loses only that table: the others keep running. Its records are dropped until
   * it is assigned again; with a source that can re-assign, that happens now, which
   * re-reads its checkpoint (so a process that still owns the table resumes from it).
   */
  private loseTable(table: string, err: Error, source = this.source): void {
    this.closeTable(table);
    this.lost.add(table);
    this.opts.logger.warn({ table, err: err.message }, `commit to ${table} refused: another writer owns it now; its buffer is dropped and it is re-read at the next assignment`);
    const splits = [...(this.checkpoints.get(table)?.splits.keys() ?? [])].filter((s) => this.assigned.has(s));
    for (const [topic, t] of this.topicTable) if (t === table) for (const s of this.assigned) if (parseSplitId(s).topic === topic && !splits.includes(s)) splits.push(s);
    if (splits.length > 0 && source?.reassign !== undefined) {
      // Not awaited: the re-assignment runs its hooks through `serial`, after the current stage.
      source.reassign(splits).catch((e: unknown) => this.fail(e));
    }
  }

  private decode(rec: KafkaRecordIn): Decoded | Promise<Decoded> {
    // A registry wire format (Confluent or Apicurio) starts with magic byte 0; JSON never does.
    return rec.value !== null && rec.value[0] === 0 ? decodeRecordAsync(rec, this.ctx) : decodeRecord(rec, this.ctx);
  }

  async consume(batch: RecordBatch): Promise<void> {
    const now = this.now();
    // A batch holds one split's records: one id for all of them, not a new string per record.
    const split = batch.split;
    for (const rec of batch.records) {
      this.summary.records++;
      // `source.fastPath`: the tables are the same either way (the tests check both)
      if (this.opts.config.source.fastPath && !this.slowTopics.has(rec.topic) && this.bufferFast(rec, split, now)) continue;
      // JSON decodes synchronously: awaiting only the Avro promises saves a microtask per record.
      const pending = this.decode(rec);
      const decoded = pending instanceof Promise ? await pending : pending;
      switch (decoded.kind) {
        case 'change':
        case 'truncate':
          this.buffer(decoded.event, rec, split, now);
          break;
        case 'invalid':
          this.deadLetter({ error: decoded.error, record: rec, atMs: now });
          break;
        case 'transaction':
          this.metadataSplits.add(split);
          this.txLog.seenMetadata = true;
          if (decoded.status === 'END') {
            this.txLog.end(decoded.txId, decoded.perTable ?? []);
            for (const t of this.txLog.tablesOf(decoded.txId)) this.buffers.wake(t);
          }
          break;
        default: {
          // Tombstones, heartbeats, transaction markers: no row, but the table has read past them.
          const table = this.topicTable.get(rec.topic);
          if (table !== undefined && !this.lost.has(table)) this.buffers.advance(table, split, rec.offset, now);
        }
      }
    }
    // Back-pressure may pause the split (not one of transaction metadata: holding rows waits on those).
    if (!this.metadataSplits.has(batch.split)) this.activeSplits.add(batch.split);
  }

  /**
   * A record the fast path reads: buffered with its row encoded, or false when it must take
   * the general decoder (which also names whatever is wrong with it). Tables whose writes
   * need row values (ordered by a column, partitioned, keyed by other columns) take the
   * general path too.
   */
  private bufferFast(rec: KafkaRecordIn, split: SplitId, now: number): boolean {
    const sink = this.scratch;
    sink.pos = 0;
    const change = decodeFast(rec, this.ctx, sink);
    if (change === undefined) return false;
    let route: Route;
    try {
      route = this.router.route(change.table);
    } catch {
      return false;
    }
    const o = route.options;
    const key = o.recordKey;
    if (o.ordering !== undefined || o.partitionField !== undefined || (key !== undefined && (key.length !== 1 || key[0] !== change.keyFields[0]))) {
      // a table's options do not change: decoding its next records twice would be wasted
      this.slowTopics.add(rec.topic);
      return false;
    }
    if (!exactLong(change.sourceTsMs)) return false;
    if (!this.admit(route, rec, split, now)) return true;
    encodeCdcColumns(sink, change.op, change.sourceTsMs, change.position.ordering, change.txId);
    const outcome = this.buffers.addEncoded(change, sink.buf.subarray(0, sink.pos), change.size, this.bufferedAt(rec, now), route.identity.id, split, rec.offset);
    if (outcome === 'unsupported') return false;
    this.summary.fastPath++;
    this.counted(route);
    return true;
  }

  /**
   * Whether a routed record is still to be buffered: not when its table was lost to another
   * writer, nor when the table's checkpoint is past it (the table still reads past it).
   */
  private admit(route: Route, rec: KafkaRecordIn, split: SplitId, now: number): boolean {
    const id = route.identity.id;
    this.topicTable.set(rec.topic, id);
    if (this.lost.has(id)) return false;
    if (!isUnconsumed(this.checkpoints.get(id), split, rec.offset)) {
      this.summary.skippedByCheckpoint++;
      this.buffers.advance(id, split, rec.offset, now);
      return false;
    }
    return true;
  }

  /**
   * When a record counts as buffered: a batch's age counts from when its oldest record was
   * produced (freshness is measured from there), but at least half the flush age is left to
   * a consumer catching up.
   */
  private bufferedAt(rec: KafkaRecordIn, now: number): number {
    const ts = rec.timestamp;
    return ts === undefined || ts >= now ? now : Math.max(ts, now - this.halfAge);
  }

  private counted(route: Route): void {
    this.summary.changes++;
    this.opts.events?.onChange?.(route.identity.id);
  }

  private buffer(event: ChangeEvent, rec: KafkaRecordIn, split: SplitId, now: number): void {
    let route: Route;
    try {
      route = this.router.route(event.table);
    } catch (e) {
      this.deadLetter({ error: new InvalidRecord(event.origin, 'missing-table', (e as Error).message, event.table), record: rec, atMs: now });
      return;
    }
    const id = route.identity.id;
    if (!this.admit(route, rec, split, now)) return;
    const column = route.options.ordering;
    const unusable = column === undefined ? undefined : orderByColumn(event, column);
    if (unusable !== undefined) {
      const detail = `table ${id} is ordered by column ${column} (tables.overrides.${id}.ordering), but this ${event.op} change has ${unusable}; give the column a value in every change (an integer or a timestamp), or order the table by source position`;
      this.deadLetter({ error: new InvalidRecord(event.origin, 'no-ordering-value', detail, event.table), record: rec, atMs: now });
      return;
    }
    this.counted(route);
    this.buffers.add(event, this.changeBytes(rec), this.bufferedAt(rec, now), id, split);
  }

  /**
   * What a change weighs in its table's buffer (`buffer.maxBytes`, the memory budget): its
   * record value's bytes, without the Connect schema beside a JSON payload — the buffer holds
   * the change, not its schema, which is most of a JsonConverter record. The fast path
   * measures its records the same way (`FastChange.size`).
   */
  private changeBytes(rec: KafkaRecordIn): number {
    const v = rec.value;
    if (v === null) return 64;
    const buf = asBuffer(v);
    const spans = envelopeSpans(buf, this.lastSchema);
    if (spans === null) return v.byteLength;
    if (!spans.known) this.lastSchema = Buffer.from(envelopeSchema(buf, spans));
    return spans.payloadEnd - spans.payloadStart;
  }

  private deadLetter(letter: DeadLetter): void {
    this.summary.deadLetters++;
    this.opts.events?.onDeadLetter?.(letter);
    this.opts.logger.warn({ topic: letter.record.topic, partition: letter.record.partition, offset: String(letter.record.offset), reason: letter.error.reason }, letter.error.message);
    if (this.opts.config.errors.tolerance === 'none') {
      throw new PipelineStopped(`stopped at a bad record (errors.tolerance=none): ${letter.error.message}`);
    }
    this.deadLetters.push(letter);
  }

  async flushDue(source?: Source): Promise<void> {
    const now = this.now();
    const due = this.buffers.due(now);
    // Dead letters before table commits: a table's checkpoint moves past the bad records'
    // offsets, so they must be recorded first or a crash loses them (design §3.5).
    const oldest = this.deadLetters[0]?.atMs;
    if (oldest !== undefined && (due.length > 0 || this.deadLetters.length >= 1000 || now - oldest >= this.opts.config.buffer.maxAgeMs)) {
      await this.flushDeadLetters();
    }
    for (const { table } of due) {
      if (this.maintaining.has(table)) {
        // Compaction and deltacommits of one table are serialized: ingestion goes on, this table's flush waits.
        if (!this.deferredSince.has(table)) this.deferredSince.set(table, now);
        continue;
      }
      await this.flush(table, source);
    }
    if (source !== undefined) this.backpressure(source);
  }

  async flushAll(source?: Source): Promise<void> {
    await this.idle();
    await this.flushDeadLetters();
    for (const table of this.buffers.tables()) await this.flush(table, source);
  }

  private async openTable(route: Route, keyFields: string[], partitionField = route.options.partitionField): Promise<OpenTable> {
    let t = this.tables.get(route.identity.id);
    if (t === undefined) {
      const id = route.identity;
      const orderingField = route.options.ordering === undefined ? ORDERING_FIELD : COLUMN_ORDERING_FIELD;
      const table = await HudiTable.create(this.opts.store, id.path, {
        tableName: id.hudiTableName,
        database: id.database,
        recordKeyFields: route.options.recordKey ?? keyFields,
        ...(partitionField === undefined ? {} : { partitionField }),
        orderingField,
        buckets: route.options.buckets,
      }, { onFileWritten: (path, bytes) => this.opts.events?.onFileWritten?.(id.id, path.includes('.log.') ? 'log' : 'base', bytes), keyIndexBudget: this.keyIndexBudget });
      if (table.config.orderingField !== orderingField) {
        // Its stored orderings are of the other kind: comparing them with these would be meaningless.
        const was = table.config.orderingField === ORDERING_FIELD ? 'by source position' : `by a column (precombine field ${table.config.orderingField})`;
        const now = route.options.ordering === undefined ? 'none' : `column ${route.options.ordering}`;
        throw new ConfigError([{ path: `tables.overrides.${id.id}.ordering`, message: `table ${id.id} was created ordered ${was}, but the config now says ${now}: an existing table keeps its order; restore the setting or write this table anew` }]);
      }
      t = { route, table, checkpoint: this.checkpoints.get(id.id) ?? emptyCheckpoint() };
      this.tables.set(id.id, t);
    }
    return t;
  }

  /** Resolves when no maintenance runs in the background. */
  async idle(): Promise<void> {
    while (this.maintaining.size > 0) await Promise.all(this.maintaining.values());
  }

  /** Whether a source transaction's records for `table` are all in (or may be committed anyway). */
  private completeness(table: string): ((txId: string, span: TxnSpan) => boolean) | undefined {
    if (!this.align || !this.txLog.seenMetadata) return undefined;
    const now = this.now();
    const maxHold = this.opts.config.transactions.maxHoldMs;
    return (txId, span) => {
      const expected = this.txLog.expected(txId, table);
      if (expected !== undefined && span.seen >= expected) return true;
      if (now - span.firstSeenMs < maxHold) return false;
      this.opts.logger.warn({ table, txId, seen: span.seen, expected }, `transaction ${txId} still incomplete for ${table} after ${maxHold} ms (transactions.maxHoldMs); committing what was read. Check that the <prefix>.transaction topic is subscribed`);
      return true;
    };
  }

  private async flush(tableId: string, source?: Source): Promise<void> {
    const running = this.maintaining.get(tableId);
    if (running !== undefined) await running;
    const deferred = this.deferredSince.get(tableId);
    if (deferred !== undefined) {
      this.deferredSince.delete(tableId);
      const ms = this.now() - deferred;
      this.opts.events?.onMaintenancePause?.(tableId, ms);
      this.opts.logger.info({ table: tableId, pauseMs: ms }, 'flush waited for maintenance');
    }
    const batch = this.buffers.take(tableId, this.completeness(tableId));
    if (batch !== undefined && batch.held > 0) this.opts.events?.onHeld?.(tableId, batch.held);
    if (batch === undefined) return;
    const lane = batch.encoded;
    const first = batch.truncate ?? batch.events[0];
    // what names the table and its key: the first event, or the fast path's rows
    const named: Pick<FastChange, 'table' | 'keyFields' | 'schema'> | undefined = first ?? (lane === null ? undefined : { table: lane.sourceTable, keyFields: lane.keyFields, schema: lane.schema });
    if (named === undefined) return;
    const started = this.now();
    const open = await this.openTable(this.router.route(named.table), named.keyFields);
    const checkpoint = this.nextCheckpoint(open, batch);
    const extraMetadata = { [CHECKPOINT_KEY]: encodeCheckpoint(checkpoint), ...this.writerMetadata() };
    const upserts = batch.events.length > 0 || lane !== null;
    let instant: string | undefined;
    const evicted = this.keyIndexBudget.evicted;
    try {
      if (batch.truncate !== null) await open.table.truncate(upserts ? this.writerMetadata() : extraMetadata);
      if (upserts) {
        const schema = withCdcColumns(this.tracker.schemaOf(named.table) ?? named.schema, open.route.options.ordering !== undefined);
        const result = await open.table.commit({ schema, mutations: batch.events.map(toMutation), ...(lane === null ? {} : { encoded: lane.upserts() }), extraMetadata });
        instant = result.instant;
      }
    } catch (e) {
      if (!(e instanceof InstantConflict)) throw e;
      this.loseTable(tableId, e, source);
      return;
    }
    open.checkpoint = checkpoint;
    this.checkpoints.set(tableId, checkpoint);
    this.summary.commits++;
    this.opts.events?.onCommit?.(tableId, instant ?? '', batch.rows, this.now() - started);
    this.opts.events?.onRecords?.(tableId, batch.rows);
    this.opts.logger.info({ table: tableId, instant, rows: batch.rows, ...(batch.held > 0 ? { heldForTransactions: batch.held } : {}) }, 'committed');
    const dropped = this.keyIndexBudget.evicted - evicted;
    if (dropped > 0) {
      this.opts.logger.warn(
        { table: tableId, droppedFileGroups: dropped, keyIndexBytes: this.keyIndexBudget.bytes, limit: this.keyIndexBudget.maxBytes },
        'key index over budget (buffer.keyIndexBytes): the least recently written file groups were dropped and are read from storage again when next written; raise buffer.keyIndexBytes or tables.*.buckets if this repeats',
      );
    }
    if (source !== undefined) {
      try {
        await source.commitOffsets(new Map([...checkpoint.splits].map(([s, c]) => [s, c.floor])));
      } catch (e) {
        // Group offsets are informational (the commit above holds the checkpoint): never fail the run for them.
        this.opts.logger.warn({ table: tableId, err: e instanceof Error ? e.message : String(e) }, 'committing consumer-group offsets failed; the table checkpoint is unaffected');
      }
    }
    this.startMaintenance(tableId, open);
  }

  /**
   * Compaction and cleaning run in the background, off the ingest loop: other tables keep
   * flushing, and this table's due flushes are deferred until it ends (our writer does not
   * yet route new log files past a pending compaction, so one table's writes are serialized).
   */
  private startMaintenance(tableId: string, open: OpenTable): void {
    if (this.maintaining.has(tableId)) return;
    const run = (async () => {
      try {
        // The dead-letter table has a writer in every replica: maintain it as it is now (other
        // replicas' commits and abandoned instants included); instants of the last minutes may
        // still be in flight elsewhere, and archival stays before them.
        const shared = tableId === DEAD_LETTER_TABLE;
        if (shared) {
          await open.table.refresh();
          await settleAbandoned(open.table, this.now(), ABANDONED_AFTER_MS);
        }
        const notAfter = shared ? dateToInstant(new Date(this.now() - ABANDONED_AFTER_MS)) : undefined;
        const report = await maintain(open.table, policyOf(open.route.options), this.compactor, notAfter);
        if (report.compaction?.instant || report.clean?.instant || report.archive) {
          this.opts.events?.onMaintenance?.(tableId, report);
          const archived = report.archive && { instants: report.archive.instants, boundary: report.archive.boundary, swept: report.archive.swept };
          this.opts.logger.info({ table: tableId, compaction: report.compaction?.instant, clean: report.clean?.instant, archived, reasons: report.reasons, heldBackBy: report.heldBackBy }, 'maintenance');
        }
      } catch (e) {
        if (tableId === DEAD_LETTER_TABLE && staleView(e)) {
          // Another replica committed to (or cleaned) the shared table meanwhile: this run's instant
          // was refused or its files are gone; the next run works on the table as it is now.
          await this.afterRefusal(open, e).catch((err: unknown) => this.opts.logger.error({ table: tableId, err: err instanceof Error ? err.message : String(err) }, 'reading the dead-letter table again failed; it is retried after its next commit'));
          this.opts.logger.info({ table: tableId }, 'maintenance refused: another replica changed the dead-letter table meanwhile; retried after its next commit');
        } else {
          // Maintenance can wait for the next commit; ingestion must not stop for it.
          this.opts.logger.error({ table: tableId, err: e instanceof Error ? e.message : String(e) }, 'maintenance failed; it is retried after the next commit');
        }
      } finally {
        this.maintaining.delete(tableId);
      }
      // a flush deferred behind this maintenance goes now, not at the next tick
      if (this.deferredSince.has(tableId)) this.serial(() => this.flushDue(this.source)).catch((e: unknown) => this.fail(e));
    })();
    this.maintaining.set(tableId, run);
  }

  /** After another replica changed the shared dead-letter table under this process: drop a refused instant and read the table again. */
  private async afterRefusal(open: OpenTable, e: InstantConflict | ObjectNotFound): Promise<void> {
    if (e instanceof InstantConflict && e.refused) await open.table.discardRefused(e.refused);
    await open.table.refresh();
  }

  private nextCheckpoint(open: OpenTable, batch: TableBatch): Checkpoint {
    return checkpointForCommit(open.checkpoint, batch.splits, batch.lastPosition, (split) => this.buffers.pendingFloor(split, batch.table));
  }

  private writerMetadata(): Record<string, string> {
    const w = this.opts.writer?.();
    return w === undefined ? {} : { [WRITER_KEY]: JSON.stringify(w) };
  }

  private async flushDeadLetters(): Promise<void> {
    // While the dead-letter table is maintained its letters wait (its commits and its maintenance do not overlap).
    if (this.deadLetters.length === 0 || this.maintaining.has(DEAD_LETTER_TABLE)) return;
    const letters = this.deadLetters;
    this.deadLetters = [];
    await this.opts.deadLetterSink?.send(letters);
    if (this.opts.config.deadLetters.table === false) return;
    const route = this.router.route(DEAD_LETTER_TABLE);
    const open = await this.openTable({ ...route, options: { ...route.options, recordKey: ['id'] } }, ['id'], undefined);
    const req = { schema: DEAD_LETTER_SCHEMA, mutations: letters.map(deadLetterMutation), extraMetadata: this.writerMetadata() };
    // Every replica appends to the dead-letter table (keys are unique per record): a commit
    // refused because another replica committed first is discarded and made again on the
    // table as it is now.
    for (let attempt = 1; ; attempt++) {
      try {
        await open.table.commit(req);
        break;
      } catch (e) {
        if (!staleView(e) || attempt === DEAD_LETTER_ATTEMPTS) throw e;
        await this.afterRefusal(open, e);
        // Back off, with jitter, so that a replica committing often does not win every round.
        await sleep(backoffDelay(attempt, Math.random(), DEAD_LETTER_BACKOFF));
      }
    }
    this.opts.logger.warn({ table: DEAD_LETTER_TABLE, count: letters.length }, 'dead letters written');
    this.startMaintenance(DEAD_LETTER_TABLE, open);
  }
}

/**
 * Pending instants of the dead-letter table older than this are abandoned (a replica crashed
 * mid-commit) and rolled back before its maintenance, which waits while any instant is pending.
 */
const ABANDONED_AFTER_MS = 10 * 60_000;

/** Commits of one batch of dead letters before a run of refusals (other replicas committing first each time, up to ~9 s) fails the flush. */
const DEAD_LETTER_ATTEMPTS = 10;
const DEAD_LETTER_BACKOFF: BackoffPolicy = { baseMs: 50, capMs: 2000 };

/**
 * Whether an error of work on the dead-letter table comes from another replica changing it
 * since this process read it: a refused fence claim, or a file of its view that a clean removed.
 */
function staleView(e: unknown): e is InstantConflict | ObjectNotFound {
  return e instanceof InstantConflict || e instanceof ObjectNotFound;
}

/** A source timestamp the fast path writes as the table writer would: an integer the Avro long encoding keeps exactly. */
function exactLong(ms: number | null): boolean {
  return ms === null || (Number.isInteger(ms) && Math.abs(ms) < 2 ** 52);
}
