/**
 * FileSource: replays a JSONL file of Kafka records (design §5) through the same
 * pipeline as Kafka. Splits are the file's topic-partitions, discovered as the file is
 * read: the first record of a split triggers `onAssigned([split])`, and records below
 * the returned next offset are skipped, so re-running an ingest over the same file is
 * idempotent. The file is streamed in chunks; memory is bounded by the chunk size and
 * the batch size, not by the file. Records are views into the chunk they were read from.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LineError, parseLine } from './line.js';
import type { KafkaRecordIn, RecordBatch, SplitId } from './record.js';
import { splitId } from './record.js';
import { SourceError, type Source, type SourceHooks } from './source.js';

export interface FileProgress {
  bytesRead: number;
  totalBytes: number;
}

export interface InvalidLine {
  file: string;
  /** 1-based line number. */
  line: number;
  reason: string;
  text: string;
}

export interface FileSourceOptions {
  /** Max records per batch (default 5000). */
  batchSize?: number;
  /** Read chunk size in bytes (default 1 MiB). */
  chunkBytes?: number;
  /** Called after every chunk read. */
  onProgress?: (p: FileProgress) => void;
  /**
   * A line that is not a Kafka record at all (no topic/partition/offset to dead-letter
   * it under). Without this handler the source fails naming the file and line.
   */
  onInvalidLine?: (l: InvalidLine) => void;
}

const NL = 0x0a;

export class FileSource implements Source {
  private hooks: SourceHooks | undefined;
  private readonly next = new Map<SplitId, bigint>();
  private readonly paused = new Set<SplitId>();
  private resumeWaiters: Array<() => void> = [];
  private stopped = false;
  private started = false;
  private stream: ReturnType<typeof createReadStream> | undefined;
  private readonly committed = new Map<SplitId, bigint>();
  private skipped = 0;
  private readonly batchSize: number;
  private readonly chunkBytes: number;

  constructor(
    readonly path: string,
    private readonly opts: FileSourceOptions = {},
  ) {
    this.batchSize = opts.batchSize ?? 5000;
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    if (!(this.batchSize > 0)) throw new SourceError(`file ${path}`, `batchSize must be > 0, got ${this.batchSize}`);
  }

  async open(hooks: SourceHooks): Promise<void> {
    this.hooks = hooks;
    try {
      const s = await stat(this.path);
      if (!s.isFile()) throw new Error('not a regular file');
    } catch (e) {
      throw new SourceError(`file ${this.path}`, `cannot read input: ${e instanceof Error ? e.message : String(e)}; pass an existing JSONL file`, { cause: e });
    }
  }

  /** Splits seen so far with the next offset each will deliver (for reports and tests). */
  positions(): Map<SplitId, bigint> {
    return new Map(this.next);
  }

  /** Records skipped because they were below their split's next offset (already ingested, duplicates, out of order). */
  skippedRecords(): number {
    return this.skipped;
  }

  /** What the owner last committed (a file has no consumer group; kept for reports). */
  committedOffsets(): Map<SplitId, bigint> {
    return new Map(this.committed);
  }

  pause(splits: SplitId[]): void {
    for (const s of splits) this.paused.add(s);
  }

  resume(splits: SplitId[]): void {
    for (const s of splits) this.paused.delete(s);
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const w of waiters) w();
  }

  async commitOffsets(offsets: Map<SplitId, bigint>): Promise<void> {
    for (const [s, o] of offsets) this.committed.set(s, o);
  }

  /** A file has no group to stay in: stopping releases it at once. */
  stop(): void {
    this.stopped = true;
    this.stream?.destroy();
    this.resume([...this.paused]);
  }

  async close(): Promise<void> {
    this.stop();
  }

  async *batches(): AsyncIterable<RecordBatch> {
    const hooks = this.hooks;
    if (!hooks) throw new SourceError(`file ${this.path}`, 'batches() called before open(); call open(hooks) first');
    if (this.started) throw new SourceError(`file ${this.path}`, 'batches() can be iterated only once per FileSource');
    this.started = true;
    const totalBytes = (await stat(this.path)).size;
    let bytesRead = 0;
    let lineNo = 0;
    // Per-split pending records: interleaved partitions still make full batches. What is
    // pending is delivered once it adds up to a batch at a chunk's end (and at the file's
    // end), so memory stays bounded by about two batches plus the chunks they point into.
    const pending = new Map<SplitId, KafkaRecordIn[]>();
    let pendingCount = 0;
    const ids = new Map<string, SplitId[]>();
    let carry: Uint8Array | undefined;

    /** The split id of a topic-partition, built once (not a string concatenation per record). */
    const idOf = (topic: string, partition: number): SplitId => {
      let byPartition = ids.get(topic);
      if (!byPartition) ids.set(topic, (byPartition = []));
      return (byPartition[partition] ??= splitId(topic, partition));
    };

    const take = async (id: SplitId): Promise<RecordBatch | undefined> => {
      const records = pending.get(id);
      pending.delete(id);
      if (!records || records.length === 0) return undefined;
      pendingCount -= records.length;
      // a paused split holds the whole file back: the file is one sequential stream
      while (this.paused.has(id) && !this.stopped) await new Promise<void>((r) => this.resumeWaiters.push(r));
      if (this.stopped) return undefined;
      return { split: id, records, nextOffset: (records[records.length - 1] as KafkaRecordIn).offset + 1n };
    };

    /**
     * Queues the record if it is at or past its split's next offset; returns the split id
     * when that split now holds a full batch. Synchronous once the split is known: only a
     * split's first record waits for `onAssigned`.
     */
    const add = (rec: KafkaRecordIn, id: SplitId): SplitId | undefined => {
      const next = this.next.get(id) as bigint;
      // below the split's next offset: already in the table, or a duplicate line
      if (rec.offset < next) {
        this.skipped++;
        return undefined;
      }
      this.next.set(id, rec.offset + 1n);
      let list = pending.get(id);
      if (!list) pending.set(id, (list = []));
      list.push(rec);
      pendingCount++;
      return list.length >= this.batchSize ? id : undefined;
    };

    const assign = async (id: SplitId): Promise<void> => {
      const starts = await hooks.onAssigned([id]);
      this.next.set(id, starts.get(id) ?? 0n);
    };

    this.stream = createReadStream(this.path, { highWaterMark: this.chunkBytes });
    try {
      for await (const chunkAny of this.stream) {
        if (this.stopped) return;
        const chunk = chunkAny as Buffer;
        bytesRead += chunk.length;
        const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
        carry = undefined;
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(NL, start);
          if (nl < 0) break;
          lineNo++;
          const rec = this.lineToRecord(buf, start, nl, lineNo);
          start = nl + 1;
          if (!rec) continue;
          const id = idOf(rec.topic, rec.partition);
          if (!this.next.has(id)) await assign(id);
          const full = add(rec, id);
          if (full !== undefined) {
            const b = await take(full);
            if (b) yield b;
          }
          if (this.stopped) return;
        }
        if (start < buf.length) carry = buf.subarray(start);
        if (pendingCount >= this.batchSize) {
          for (const id of [...pending.keys()]) {
            const b = await take(id);
            if (b) yield b;
          }
        }
        this.opts.onProgress?.({ bytesRead, totalBytes });
      }
      if (carry && carry.length > 0) {
        lineNo++;
        const rec = this.lineToRecord(carry, 0, carry.length, lineNo);
        if (rec) {
          const id = idOf(rec.topic, rec.partition);
          if (!this.next.has(id)) await assign(id);
          add(rec, id);
        }
      }
      for (const id of [...pending.keys()]) {
        const b = await take(id);
        if (b) yield b;
      }
    } finally {
      this.stream.destroy();
    }
  }

  private lineToRecord(buf: Uint8Array, start: number, end: number, lineNo: number): KafkaRecordIn | undefined {
    let e = end;
    if (e > start && buf[e - 1] === 0x0d) e--;
    let s = start;
    while (s < e && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
    if (s === e) return undefined; // blank line
    try {
      return parseLine(buf, s, e);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const text = Buffer.from(buf.subarray(s, Math.min(e, s + 200))).toString('utf8');
      if (this.opts.onInvalidLine && err instanceof LineError) {
        this.opts.onInvalidLine({ file: this.path, line: lineNo, reason, text });
        return undefined;
      }
      throw new SourceError(`file ${this.path}`, `line ${lineNo}: ${reason}; fix the line or pass onInvalidLine to skip it`, { cause: err });
    }
  }
}
