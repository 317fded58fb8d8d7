/** What the decoder takes and returns. */
import type { TableSchema } from '../table/schema.js';
import type { ChangeEvent, RecordOrigin } from './change-event.js';
import type { InvalidRecord } from './invalid-record.js';

export type { KafkaRecordIn } from '../source/record.js';

export interface TransactionTableCount {
  table: string;
  eventCount: number;
}

export interface SchemaChangeTable {
  type: string;
  /** `<database>.<table>` (quotes removed). */
  table: string;
  primaryKey: string[];
}

export type Decoded =
  | { kind: 'change'; event: ChangeEvent }
  /** Kafka null value (or JSON `null` payload): no state change. */
  | { kind: 'tombstone'; origin: RecordOrigin }
  /** `op=t`: the whole table was truncated at `event.position`. */
  | { kind: 'truncate'; event: ChangeEvent }
  | { kind: 'heartbeat'; origin: RecordOrigin; tsMs: number | null }
  | {
      kind: 'transaction';
      origin: RecordOrigin;
      status: 'BEGIN' | 'END';
      /** Transaction id as sent (`<xid>:<lsn>` for PostgreSQL). */
      id: string;
      /** Joinable id: for PostgreSQL the xid before ':' (equals ChangeEvent.txId). */
      txId: string;
      eventCount?: number;
      perTable?: TransactionTableCount[];
    }
  | { kind: 'schema-change'; origin: RecordOrigin; database: string | null; ddl: string | null; tables: SchemaChangeTable[] }
  /** `op=m` logical decoding message. */
  | { kind: 'message'; origin: RecordOrigin; prefix: string | null }
  | { kind: 'invalid'; error: InvalidRecord };

/** Tables without a primary key (Kafka key null). */
export type KeylessPolicy = 'reject' | 'all-columns' | { columns: string[] };

export interface DecodeOptions {
  /** The encoding record values must have: `json`, `avro` (a schema registry's wire format: Confluent's or Apicurio's), or `auto` (the default: detected per record). Keys are always detected. */
  format?: 'auto' | 'json' | 'avro';
  /** Default 'reject' (→ InvalidRecord `no-primary-key`). */
  keyless?: KeylessPolicy;
  /** Per-table override of `keyless` (`<schema>.<table>` → policy). */
  keylessTables?: Record<string, KeylessPolicy>;
  /** Debezium `binary.handling.mode`; default 'bytes'. */
  binaryHandling?: 'bytes' | 'base64' | 'hex';
  /** With base64/hex: which string columns hold binary (`col` or `schema.table.col`). */
  binaryColumns?: string[];
  /** Debezium `unavailable.value.placeholder`; default `__debezium_unavailable_value`. */
  unavailablePlaceholder?: string;
  /** Declared table schemas (`<schema>.<table>` → schema) for schemaless JSON. */
  tableSchemas?: Record<string, TableSchema>;
  /** ExtractNewRecordState `add.fields.prefix`; default `__`. */
  flattenedPrefix?: string;
}
