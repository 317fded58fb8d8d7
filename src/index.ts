/**
 * cdc-lake as a library: open a table of a lake and query it.
 *
 *   import { openTable } from 'cdc-lake';
 *   const orders = await openTable('s3://lake/cdc', 'public.orders');
 *   const { rows } = await orders.snapshot();
 *   const changed = await orders.incremental({ since: '20260101000000000' });
 *   const arrow = await orders.snapshotArrow({ columns: ['order_id', 'status'] });
 *
 * The CLI is built on the same functions.
 */
import type { Table } from 'apache-arrow';
import { openStore, type OpenStoreOptions } from './storage/open-store.js';
import type { ObjectStore } from './storage/object-store.js';
import { discoverTables, openLakeTable } from './pipeline/lake.js';
import { readChanges, readIncremental, readSnapshot, type ChangeRow, type IncrementalOptions, type QueryResult, type SnapshotOptions } from './table/reader.js';
import { rowsToArrow } from './table/parquet.js';
import type { HudiTable } from './table/table.js';
import type { TimelineInstant } from './table/timeline.js';
import type { Row, TableSchema } from './table/schema.js';

export type { ChangeRow, IncrementalOptions, QueryResult, Row, SnapshotOptions, TableSchema, TimelineInstant };
export { HudiTable } from './table/table.js';
export { UnknownTable } from './pipeline/lake.js';
export { QueryError } from './table/reader.js';

export interface LakeTable {
  /** `<schema>.<table>`. */
  readonly name: string;
  readonly schema: TableSchema | undefined;
  /** Every instant on the timeline, oldest first. */
  timeline(): TimelineInstant[];
  snapshot(opts?: SnapshotOptions): Promise<QueryResult>;
  snapshotArrow(opts?: SnapshotOptions): Promise<Table>;
  incremental(opts: IncrementalOptions): Promise<QueryResult>;
  changes(opts: { since: string; until?: string; meta?: boolean; columns?: string[] }): Promise<{ schema: TableSchema; changes: ChangeRow[] }>;
  /** The underlying Hudi table (writes, compaction, cleaning). */
  readonly hudi: HudiTable;
}

function store(lake: string | ObjectStore, opts?: OpenStoreOptions): ObjectStore {
  return typeof lake === 'string' ? openStore(lake, opts) : lake;
}

export async function openTable(lake: string | ObjectStore, table: string, opts?: OpenStoreOptions): Promise<LakeTable> {
  const hudi = await openLakeTable(store(lake, opts), table);
  return {
    name: `${hudi.config.database}.${table.slice(table.indexOf('.') + 1)}`,
    schema: hudi.schema,
    hudi,
    timeline: () => [...hudi.timeline.instants],
    snapshot: (o) => readSnapshot(hudi, o),
    snapshotArrow: async (o) => {
      const r = await readSnapshot(hudi, o);
      return rowsToArrow(r.schema, r.rows);
    },
    incremental: (o) => readIncremental(hudi, o),
    changes: (o) => readChanges(hudi, o),
  };
}

/** The `<schema>.<table>` names of a lake. */
export async function listTables(lake: string | ObjectStore, opts?: OpenStoreOptions): Promise<string[]> {
  return (await discoverTables(store(lake, opts))).map((t) => t.id);
}
