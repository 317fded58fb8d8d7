/**
 * Interop: a table ordered by a column (`tables.overrides.<t>.ordering`, precombine field
 * `_cdc_ordering`), written through the pipeline with stale updates, ties, deletes and
 * re-inserts below and above the deleted value (test/support/column-ordered.ts), is read by
 * hudi-rs and by Spark exactly as by our reader: the snapshot and time travel to every
 * instant, and again after a compaction and one more commit. Event-time merging is where engines can part (hudi-rs merges a slice's records
 * before its deletes, Spark merges log into base by payload): this is the check that what
 * the writer decides leaves them nothing to disagree on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { compact } from '../../../src/table/compaction.js';
import { readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { AFTER_COMPACTION, FINAL, FINAL_AFTER_COMPACTION, writeColumnOrdered } from '../../support/column-ordered.js';
import { canonicalRows, describeDiff, hudiRsRows, sortOracle, sparkBatch, type CanonicalRow, type Engine } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { tempDir } from '../../support/temp.js';

stackEnv(); // fail loudly when the engines are not configured

const canon = (res: QueryResult): CanonicalRow[] => canonicalRows(res.rows, res.schema);

let root: string;
let dir: string;
let table: HudiTable;
before(async () => {
  root = await tempDir('cdc-lake-column-order-');
  const { store } = await writeColumnOrdered(root);
  dir = join(root, 'lake', 'public', 'items');
  table = await HudiTable.open(store, 'public/items');
  const snap = await readSnapshot(table);
  assert.deepEqual(snap.rows.map((r) => `${String(r.id)}:${String(r.v)}:${String(r.name)}`).sort(), FINAL);
});

function same(ours: CanonicalRow[], theirs: CanonicalRow[], what: string, engine: Engine): void {
  const t = sortOracle(theirs);
  assert.deepStrictEqual(ours, t, `${engine}: ${what}\n${describeDiff(ours, t, 3, engine)}`);
}

test('hudi-rs reads the column-ordered table as our reader does, at every instant', async () => {
  same(canon(await readSnapshot(table, { meta: true })), await hudiRsRows(dir), 'snapshot', 'hudi-rs');
  for (const i of table.timeline.completed()) {
    same(canon(await readSnapshot(table, { meta: true, asOf: i.timestamp })), await hudiRsRows(dir, { asOf: i.timestamp }), `snapshot as of ${i.timestamp}`, 'hudi-rs');
  }
});

test('Spark reads the column-ordered table as our reader does, at every instant', { timeout: 600_000 }, async () => {
  const instants = table.timeline.completed().map((i) => i.timestamp);
  const answers = await sparkBatch(dir, [{ mode: 'snapshot' }, ...instants.map((asOf) => ({ mode: 'snapshot' as const, asOf }))]);
  const asked: Array<string | undefined> = [undefined, ...instants];
  for (const [k, a] of answers.entries()) {
    const asOf = asked[k];
    if ('error' in a) assert.fail(`Spark failed on ${asOf ?? 'the snapshot'}: ${a.error}`);
    same(canon(await readSnapshot(table, { meta: true, ...(asOf === undefined ? {} : { asOf }) })), a.rows, asOf === undefined ? 'snapshot' : `snapshot as of ${asOf}`, 'spark');
  }
});

test('after a compaction and one more commit (the writer knows deleted rows by their tombstones), all three still agree', { timeout: 600_000 }, async () => {
  const { store } = await writeColumnOrdered(root, []);
  await compact(await HudiTable.open(store, 'public/items'));
  await writeColumnOrdered(root, [AFTER_COMPACTION]);
  const after = await HudiTable.open(store, 'public/items');
  assert.deepEqual(after.timeline.completed().map((i) => i.action).slice(-2), ['commit', 'deltacommit'], 'compacted, then one delta commit');
  const ours = await readSnapshot(after, { meta: true });
  assert.deepEqual(ours.rows.map((r) => `${String(r.id)}:${String(r.v)}:${String(r.name)}`).sort(), FINAL_AFTER_COMPACTION);
  same(canon(ours), await hudiRsRows(dir), 'snapshot after compaction', 'hudi-rs');
  const [spark] = await sparkBatch(dir, [{ mode: 'snapshot' }]);
  if (spark === undefined || 'error' in spark) assert.fail(`Spark failed: ${JSON.stringify(spark)}`);
  same(canon(ours), spark.rows, 'snapshot after compaction', 'spark');
});
