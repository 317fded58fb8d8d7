import type { Row, TableSchema } from '../table/schema.js';

/** c create, r snapshot read, u update, d delete, t truncate. */
export type Op = 'c' | 'r' | 'u' | 'd' | 't';

/** Where a Kafka record came from; every decoded or rejected record names it. */
export interface RecordOrigin {
  topic: string;
  partition: number;
  offset: bigint;
}

/**
 * A source position, comparable across one connector's stream (design brief §3.3).
 * `ordering` is a signed 64-bit value that embeds the order so Hudi readers can merge by it
 * (the table's ordering field `_cdc_position`); `text` is the human form kept for logs.
 */
export interface Position {
  ordering: bigint;
  /** Built when asked (checkpoints, logs), not kept per buffered record. */
  readonly text: string;
  /** Incremental-snapshot reads carry no position: they apply without raising the stored one. */
  unordered?: boolean;
}

export interface ChangeEvent {
  /** `<schema>.<table>` from `source` (PostgreSQL schema or MySQL database). */
  table: string;
  op: Op;
  /** Primary-key columns and values; null for truncates and keyless tables (see config). */
  key: Row | null;
  /** Full row after the change (`after`); for deletes the key columns (and partition value if known). */
  row: Row | null;
  position: Position;
  /**
   * Set by the pipeline for a table ordered by a column (`tables.overrides.<t>.ordering`):
   * that column's value, which then decides instead of `position` (0 for deletes: natural order).
   */
  order?: bigint;
  /** With `order`: a delete of this key came before this change in its batch, after changes ordered up to this. */
  afterDelete?: bigint;
  sourceTsMs: number | null;
  txId: string | null;
  schema: TableSchema;
  /** Key column names in key order. */
  keyFields: string[];
  /**
   * Columns whose value Debezium did not send (unchanged TOASTed values arrive as
   * `__debezium_unavailable_value`): the writer keeps the stored value for them.
   */
  unavailable: string[];
  origin: RecordOrigin;
}
