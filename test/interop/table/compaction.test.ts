/**
 * Interop after compaction: the scenario table compacted twice (in the middle of
 * its history and at the end) is read by hudi-rs as by our reader — snapshot,
 * read-optimized (now equal to the snapshot), time travel to every instant and
 * incremental between consecutive instants (compaction commits add no changes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { compact } from '../../../src/table/compaction.js';
import { readIncremental, readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { canonicalRows, describeDiff, hudiRsRows, sortOracle, type CanonicalRow } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { tempDir } from '../../support/temp.js';
import { del, schemaV2, up, writeScenarioTo } from './scenario.js';

stackEnv();

const canon = (res: QueryResult): CanonicalRow[] => canonicalRows(res.rows, res.schema);

describe('hudi-rs reads a compacted table we wrote as our reader does', () => {
  it('snapshot, read-optimized, time travel and incremental agree', { timeout: 600_000 }, async () => {
    const dir = await tempDir('cdc-lake-compact-');
    const store = new LocalStore(dir);
    const t = await writeScenarioTo(store, '', true);
    const k1 = await compact(t);
    assert.ok(k1.instant !== undefined && k1.fileGroups > 0, 'the scenario leaves logs to compact');
    await t.commit({ schema: schemaV2, mutations: [up(4, 900, 'u', 9, true), del(5, 901), up(30, 902, 'c', 9, true)] });
    await compact(t);
    const table = await HudiTable.open(store, '');
    const same = async (ours: Promise<QueryResult>, theirs: Promise<CanonicalRow[]>, what: string): Promise<void> => {
      const a = canon(await ours);
      const b = sortOracle(await theirs);
      assert.deepStrictEqual(a, b, `${what}\n${describeDiff(a, b)}`);
    };
    await same(readSnapshot(table, { meta: true }), hudiRsRows(dir), 'snapshot');
    await same(readSnapshot(table, { meta: true, readOptimized: true }), hudiRsRows(dir, { mode: 'read_optimized' }), 'read-optimized');
    assert.deepStrictEqual(canon(await readSnapshot(table, { meta: true, readOptimized: true })), canon(await readSnapshot(table, { meta: true })), 'after a full compaction read-optimized equals the snapshot');
    const times = ['00000000000000000', ...table.timeline.completed().map((i) => i.timestamp)];
    for (let k = 1; k < times.length; k++) {
      const since = times[k - 1] as string;
      const until = times[k] as string;
      await same(readSnapshot(table, { meta: true, asOf: until }), hudiRsRows(dir, { asOf: until }), `snapshot as of ${until}`);
      await same(readIncremental(table, { meta: true, since, until }), hudiRsRows(dir, { mode: 'incremental', start: since, end: until }), `incremental (${since}, ${until}]`);
    }
  });
});
