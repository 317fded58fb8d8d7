/**
 * The interop scenario: a table written by HudiTable with several commits —
 * inserts (base files), updates and deletes (log files) with positions out of
 * order and stale changes, a truncate (replacecommit), fresh inserts, an added
 * column (file groups rewritten) and changes on the wider layout — over every
 * column type of the writer profile (int, long beyond 2^53, double, boolean,
 * string, decimal(10,2), date, timestamp-micros, bytes) and nulls.
 */
import { LocalStore } from '../../../src/storage/local-store.js';
import { ARCHIVE_BATCH, archive } from '../../../src/table/archiver.js';
import { clean } from '../../../src/table/cleaner.js';
import { compact } from '../../../src/table/compaction.js';
import type { TimelineInstant } from '../../../src/table/timeline.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';
import { HudiTable } from '../../../src/table/table.js';
import { tempDir } from '../../support/temp.js';
import type { Mutation } from '../../../src/table/write-plan.js';

const opt = <T>(type: T) => ({ type: ['null', type] as never, default: null });

const baseFields: TableSchema['fields'] = [
  { name: 'id', ...opt('long') },
  { name: 'region', ...opt('string') },
  { name: 'qty', ...opt('int') },
  { name: 'big', ...opt('long') },
  { name: 'ratio', ...opt('double') },
  { name: 'active', ...opt('boolean') },
  { name: 'label', ...opt('string') },
  { name: 'price', ...opt({ type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 }) },
  { name: 'born', ...opt({ type: 'int', logicalType: 'date' }) },
  { name: 'seen', ...opt({ type: 'long', logicalType: 'timestamp-micros' }) },
  { name: 'blob', ...opt('bytes') },
];
const cdcFields: TableSchema['fields'] = [
  { name: '_cdc_op', ...opt('string') },
  { name: '_cdc_source_ts_ms', ...opt('long') },
  { name: '_cdc_position', ...opt('long') },
  { name: '_cdc_tx_id', ...opt('string') },
];
export const schemaV1: TableSchema = { type: 'record', name: 'orders', namespace: 'shop', fields: [...baseFields, ...cdcFields] };
// Debezium adds new columns at the end of the source columns.
export const schemaV2: TableSchema = { ...schemaV1, fields: [...baseFields, { name: 'note', ...opt('string') }, ...cdcFields] };

const BIG = 9_007_199_254_740_993n; // 2^53 + 1: not representable as a double

export function row(id: number, pos: number, op: string, version: number, withNote = false): Row {
  const r: Row = {
    id,
    region: ['eu', 'us', 'apac'][id % 3] as string,
    qty: id * 10 + version,
    big: BIG + BigInt(id * 1000 + version),
    ratio: id / 7 + version,
    active: (id + version) % 2 === 0,
    label: `item-${id}-v${version}${id % 4 === 0 ? ' ünïcødé' : ''}`,
    price: `${id * 1000 + version}.${String((id * 7 + version) % 100).padStart(2, '0')}`,
    born: 18_000 + id,
    seen: 1_700_000_000_000_000n + BigInt(id * 1_000_001 + version),
    blob: new Uint8Array([id, version, 0, 255]),
    _cdc_op: op,
    _cdc_source_ts_ms: 1_700_000_000_000 + pos,
    _cdc_position: pos,
    _cdc_tx_id: `tx${pos}`,
  };
  if (id % 5 === 0) r.label = null; // nulls too
  if (withNote) r.note = `note-${id}-${version}`;
  return r;
}

export const up = (id: number, pos: number, op: string, version: number, withNote = false): Mutation => ({ kind: 'upsert', ordering: BigInt(pos), row: row(id, pos, op, version, withNote) });
export const del = (id: number, pos: number): Mutation => ({ kind: 'delete', ordering: BigInt(pos), row: { id, region: ['eu', 'us', 'apac'][id % 3] as string } });

/** Writes the scenario to a local temp folder (removed when the test file ends); returns the folder and the table reopened from it. */
export async function writeScenario(partitioned: boolean): Promise<{ dir: string; table: HudiTable }> {
  const dir = await tempDir('cdc-lake-interop-');
  await writeScenarioTo(new LocalStore(dir), '', partitioned);
  return { dir, table: await HudiTable.open(new LocalStore(dir), '') };
}

/** Writes the scenario into any store (local folder or S3) under `base`. */
export async function writeScenarioTo(store: ObjectStore, base: string, partitioned: boolean): Promise<HudiTable> {
  const table = await HudiTable.create(store, base, {
    tableName: 'shop_orders',
    database: 'shop',
    recordKeyFields: ['id'],
    ...(partitioned ? { partitionField: 'region' } : {}),
    orderingField: '_cdc_position',
    buckets: 3,
  });
  const ids = Array.from({ length: 12 }, (_, k) => k + 1);
  // 1: inserts (base files)
  await table.commit({ schema: schemaV1, mutations: ids.map((id) => up(id, 100 + id, 'r', 0)) });
  // 2: updates and deletes (log files), positions out of order within the batch, one stale update
  await table.commit({
    schema: schemaV1,
    mutations: [up(2, 220, 'u', 1), up(3, 205, 'u', 1), up(2, 210, 'u', 9), del(4, 230), up(5, 50, 'u', 9), del(6, 231), up(7, 232, 'u', 1)],
  });
  // 3: a delete older than the stored row (skipped), a re-insert of a deleted key, more updates
  await table.commit({ schema: schemaV1, mutations: [del(7, 200), up(4, 300, 'c', 2), up(8, 301, 'u', 2), del(9, 302), up(13, 303, 'c', 0)] });
  // 4: truncate, then 5: fresh inserts
  await table.truncate();
  await table.commit({ schema: schemaV1, mutations: [1, 2, 3, 4, 5, 6].map((id) => up(id, 400 + id, 'c', 3)) });
  // 6: an added column (rewrites the file groups), 7: updates and deletes on the wider layout
  await table.commit({ schema: schemaV2, mutations: [up(1, 500, 'u', 4, true), up(14, 501, 'c', 4, true)] });
  await table.commit({ schema: schemaV2, mutations: [up(2, 600, 'u', 5, true), del(3, 601), up(14, 602, 'u', 5, true), up(1, 450, 'u', 9, true)] });
  return table;
}

/** Completed actions the scenario leaves on the timeline, in order. */
export const SCENARIO_ACTIONS = ['deltacommit', 'deltacommit', 'deltacommit', 'replacecommit', 'deltacommit', 'deltacommit', 'deltacommit'];

/** `id:qty:note` of the final snapshot, sorted. */
export const SCENARIO_FINAL = ['14:145:note-14-5', '1:14:note-1-4', '2:25:note-2-5', '4:43:null', '5:53:null', '6:63:null'];

/**
 * The scenario, then enough updates (compacted every 5 commits, cleaned to the newest 2) that
 * archival moves its instants, the truncate and the column addition among them, to
 * `.hoodie/archived/`. Returns the instants archived, as the timeline had them.
 */
export async function writeArchivedScenario(partitioned: boolean): Promise<{ dir: string; table: HudiTable; archived: TimelineInstant[] }> {
  const dir = await tempDir('cdc-lake-interop-archived-');
  return { dir, ...(await writeArchivedScenarioTo(new LocalStore(dir), '', partitioned)) };
}

/** `writeArchivedScenario` into any store (local folder or S3) under `base`; the table is reopened from it. */
export async function writeArchivedScenarioTo(store: ObjectStore, base: string, partitioned: boolean): Promise<{ table: HudiTable; archived: TimelineInstant[] }> {
  const table = await writeScenarioTo(store, base, partitioned);
  const retainCommits = 2;
  for (let n = 1; n <= retainCommits + ARCHIVE_BATCH + 5; n++) {
    await table.commit({ schema: schemaV2, mutations: [up(n % 2 === 0 ? 1 : 14, 1000 + n, 'u', n, true)] });
    if (n % 5 === 0) {
      await compact(table);
      await clean(table, { retainCommits });
    }
  }
  const before = table.timeline.instants;
  const r = await archive(table, { retainCommits });
  if (r.boundary === undefined) throw new Error('the archived scenario archived nothing');
  return { table: await HudiTable.open(store, base), archived: before.filter((i) => i.timestamp < (r.boundary as string)) };
}
