/**
 * The source contract, in the spirit of Flink's FLIP-27: a source reads splits
 * (topic-partitions) and asks its owner where each assigned split starts. Start
 * positions come from the tables' timelines (exactly-once, design §3.1), never from a
 * consumer group; group offsets are only written when the owner says so, after a
 * table commit, for monitoring tools.
 */
import type { RecordBatch, SplitId } from './record.js';

export type { KafkaRecordIn, RecordBatch, Split, SplitId } from './record.js';
export { parseSplitId, splitId } from './record.js';

export interface SourceHooks {
  /**
   * Called when splits are assigned (at start and after every rebalance) before any of
   * their records are delivered. Returns the next offset to read per split; a split
   * missing from the map starts at its earliest available offset.
   */
  onAssigned(splits: SplitId[]): Promise<Map<SplitId, bigint>>;
  /**
   * Called when splits are taken away; the owner must stop using their records
   * (flush or drop buffers). Records of these splits are not delivered afterwards.
   */
  onRevoked(splits: SplitId[]): Promise<void>;
}

export interface Source {
  /** Connects and starts the assignment protocol; resolves once the source is ready to deliver. */
  open(hooks: SourceHooks): Promise<void>;
  /**
   * Batches of ONE split each, in offset order per split. Ends when the source is
   * exhausted (file) or stopped.
   */
  batches(): AsyncIterable<RecordBatch>;
  /** Stop fetching these splits (memory budget); already delivered batches stay delivered. */
  pause(splits: SplitId[]): void;
  resume(splits: SplitId[]): void;
  /** Informational consumer-group offsets (next offset to read), after a table commit. */
  commitOffsets(offsets: Map<SplitId, bigint>): Promise<void>;
  /**
   * Stops fetching: batches() ends after what it already delivered. The source keeps its
   * assignment (a Kafka member stays in its group), so the owner can still flush, commit
   * and commitOffsets before close() (graceful stop: stop fetching, flush, commit, leave).
   */
  stop(): void;
  /** Releases the source (a Kafka member leaves its group); stops it first if needed. */
  close(): Promise<void>;
  /**
   * Optional, for the consumer-lag metric: per assigned split, the end offset (Kafka's high
   * watermark: the offset the next produced record gets) and the next offset this source
   * will fetch (undefined while the split's start is being decided).
   */
  offsets?(): Promise<Map<SplitId, SplitOffsets>>;
  /**
   * Optional: revokes these still-assigned splits locally and assigns them again (hooks
   * `onRevoked` then `onAssigned`, queued behind any rebalance), so the owner re-reads
   * where they start. Used after a table's commit was refused (design §3.4).
   */
  reassign?(splits: SplitId[]): Promise<void>;
  /** Optional: this member's id in the consumer group (recorded as the writer of commits). */
  memberId?(): string | undefined;
  /**
   * Optional, for readiness: why the source cannot reach its brokers right now (the last
   * heartbeat or fetch failed), or undefined while it can.
   */
  connectionProblem?(): string | undefined;
}

export interface SplitOffsets {
  end: bigint;
  position: bigint | undefined;
}

/** A source failure a user can act on: names the source (file, broker) and what to do. */
export class SourceError extends Error {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = 'SourceError';
  }
}
