/**
 * The daemon's Prometheus metrics, one typed object so callers cannot misspell
 * a metric or a label. Each `createMetrics()` has its own registry (tests and
 * several daemons in one process do not collide).
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

/** Why a record could not be decoded; bounded set so label cardinality stays small. */
export type DecodeErrorReason = 'malformed' | 'schema' | 'registry' | 'keyless' | 'unsupported-type' | 'oversized' | 'other';

export interface Metrics {
  readonly registry: Registry;
  /** Change events read from the source, per table. */
  recordsIn: Counter<'table'>;
  /** Rows written to the table (after per-key dedup), per table. */
  recordsOut: Counter<'table'>;
  deadLetters: Counter<'table' | 'reason'>;
  decodeErrors: Counter<'reason'>;
  /** Messages behind the partition's high watermark. */
  consumerLag: Gauge<'topic' | 'partition'>;
  bufferBytes: Gauge<'table'>;
  bufferRows: Gauge<'table'>;
  commitLatency: Histogram<'table'>;
  commits: Counter<'table' | 'action'>;
  filesWritten: Counter<'table' | 'kind'>;
  bytesWritten: Counter<'table' | 'kind'>;
  compactionDuration: Histogram<'table'>;
  cleanDuration: Histogram<'table'>;
  /** The writers' key indexes (all tables), and file groups `buffer.keyIndexBytes` dropped. */
  keyIndexBytes: Gauge;
  keyIndexDroppedGroups: Counter;
  /** Instants moved from the active timeline to the archived one. */
  archivedInstants: Counter<'table'>;
  /** How long a due flush of a table waited for the table's background maintenance. */
  maintenancePause: Histogram<'table'>;
  /** Rows the last flush held back because their source transaction was still open. */
  transactionHeldRows: Gauge<'table'>;
  /** Flushes that held rows back for open source transactions. */
  transactionHolds: Counter<'table'>;
  /** Unix seconds of the table's last completed instant. */
  lastCommitTime: Gauge<'table'>;
  pausedPartitions: Gauge;
  /** New pipelines started after an outage (storage, schema registry, dead-letter topic) stopped one. */
  pipelineRestarts: Counter<'cause'>;
}

const durationBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createMetrics(opts: { defaultMetrics?: boolean; prefix?: string } = {}): Metrics {
  const registry = new Registry();
  const p = opts.prefix ?? 'cdc_lake_';
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });
  const registers = [registry];
  return {
    registry,
    recordsIn: new Counter({ name: `${p}records_in_total`, help: 'Change events read from the source', labelNames: ['table'], registers }),
    recordsOut: new Counter({ name: `${p}records_out_total`, help: 'Rows written to tables', labelNames: ['table'], registers }),
    deadLetters: new Counter({ name: `${p}dead_letters_total`, help: 'Records sent to dead letters', labelNames: ['table', 'reason'], registers }),
    decodeErrors: new Counter({ name: `${p}decode_errors_total`, help: 'Records that could not be decoded, by reason', labelNames: ['reason'], registers }),
    consumerLag: new Gauge({ name: `${p}consumer_lag`, help: 'Messages behind the high watermark', labelNames: ['topic', 'partition'], registers }),
    bufferBytes: new Gauge({ name: `${p}buffer_bytes`, help: 'Bytes buffered and not yet committed', labelNames: ['table'], registers }),
    bufferRows: new Gauge({ name: `${p}buffer_rows`, help: 'Rows buffered and not yet committed', labelNames: ['table'], registers }),
    commitLatency: new Histogram({ name: `${p}commit_duration_seconds`, help: 'Time from flush start to completed instant', labelNames: ['table'], buckets: durationBuckets, registers }),
    commits: new Counter({ name: `${p}commits_total`, help: 'Completed instants', labelNames: ['table', 'action'], registers }),
    filesWritten: new Counter({ name: `${p}files_written_total`, help: 'Data files written', labelNames: ['table', 'kind'], registers }),
    bytesWritten: new Counter({ name: `${p}bytes_written_total`, help: 'Data bytes written', labelNames: ['table', 'kind'], registers }),
    compactionDuration: new Histogram({ name: `${p}compaction_duration_seconds`, help: 'Compaction duration', labelNames: ['table'], buckets: durationBuckets, registers }),
    cleanDuration: new Histogram({ name: `${p}clean_duration_seconds`, help: 'Cleaning duration', labelNames: ['table'], buckets: durationBuckets, registers }),
    keyIndexBytes: new Gauge({ name: `${p}key_index_bytes`, help: "Bytes of the writers' key indexes, all tables (bounded by buffer.keyIndexBytes)", registers }),
    keyIndexDroppedGroups: new Counter({ name: `${p}key_index_dropped_groups_total`, help: 'File groups dropped from the key index over buffer.keyIndexBytes (read again from storage when next written)', registers }),
    archivedInstants: new Counter({ name: `${p}archived_instants_total`, help: 'Instants moved to the archived timeline', labelNames: ['table'], registers }),
    maintenancePause: new Histogram({ name: `${p}maintenance_pause_seconds`, help: 'Wait of a due flush behind its table\'s compaction/cleaning', labelNames: ['table'], buckets: durationBuckets, registers }),
    transactionHeldRows: new Gauge({ name: `${p}transaction_held_rows`, help: 'Rows held back by the last flush until their source transaction is complete', labelNames: ['table'], registers }),
    transactionHolds: new Counter({ name: `${p}transaction_holds_total`, help: 'Flushes that held rows back until their source transaction is complete', labelNames: ['table'], registers }),
    lastCommitTime: new Gauge({ name: `${p}last_commit_timestamp_seconds`, help: 'Unix time of the last completed instant', labelNames: ['table'], registers }),
    pausedPartitions: new Gauge({ name: `${p}paused_partitions`, help: 'Partitions paused by the memory budget or by a full batch that waits for maintenance of its table', registers }),
    pipelineRestarts: new Counter({ name: `${p}pipeline_restarts_total`, help: 'Pipelines restarted after an outage (storage, schema registry, dead-letter topic) outlasted its retries', labelNames: ['cause'], registers }),
  };
}
