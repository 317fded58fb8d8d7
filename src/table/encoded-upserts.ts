import type { TableSchema } from './schema.js';

/**
 * Upserts whose rows arrive as Avro datums of a data schema (source and CDC columns, no
 * `_hoodie_*` fields): rows the JSON fast path wrote (`debezium/fast-json.ts`). The
 * writer splices them into log blocks behind their meta fields as they are, and decodes
 * them only where it needs their values (a new base file, a rewrite after a schema change).
 * Ordered by source position; each key at most once.
 */
export interface EncodedUpserts {
  /** The data schema the rows are encoded in. */
  readonly schema: TableSchema;
  readonly count: number;
  /** The one key column: `key(i)` is the text of its value. */
  readonly keyField: string;
  /** The record key text of upsert `i` (as `recordKey` gives it for its row). */
  key(i: number): string;
  /** Its source position, which is also its `_cdc_position`. */
  ordering(i: number): bigint;
  datum(i: number): Uint8Array;
}

