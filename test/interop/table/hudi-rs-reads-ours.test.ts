/**
 * Interop: tables WE write with HudiTable are read by hudi-rs exactly as our
 * reader reads them — snapshot and time travel at every instant, read-optimized,
 * and incremental between consecutive instants. Two tables: partitioned by a
 * field (hive-style) and not partitioned; several commits with updates, deletes,
 * out-of-order positions, a truncate and an added column; every column type of
 * the writer profile (int, long beyond 2^53, double, boolean, string,
 * decimal(10,2), date, timestamp-micros, bytes). The same tables once their
 * timeline was archived: slices older than the active timeline count as committed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readIncremental, readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import { canonicalRows, describeDiff, hudiRsRows, sortOracle, type CanonicalRow } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { earliestRetainedInstant } from '../../../src/table/cleaner.js';
import { SCENARIO_ACTIONS, SCENARIO_FINAL, writeArchivedScenario, writeScenario } from './scenario.js';

stackEnv(); // fail loudly when HUDI_PYTHON is not configured

const canon = (res: QueryResult): CanonicalRow[] => canonicalRows(res.rows, res.schema);

function same(ours: CanonicalRow[], theirs: CanonicalRow[], what: string): void {
  const t = sortOracle(theirs);
  assert.deepStrictEqual(ours, t, `${what}\n${describeDiff(ours, t)}`);
}

for (const partitioned of [false, true]) {
  describe(`hudi-rs reads a ${partitioned ? 'partitioned' : 'non-partitioned'} table we wrote as our reader does`, () => {
    const scenario = writeScenario(partitioned);

    it('has the expected timeline and final rows', async () => {
      const { table } = await scenario;
      const actions = table.timeline.completed().map((i) => i.action);
      assert.deepEqual(actions, SCENARIO_ACTIONS);
      const snap = await readSnapshot(table);
      assert.deepEqual(
        snap.rows.map((r) => `${String(r.id)}:${String(r.qty)}:${String(r.note)}`).sort(),
        SCENARIO_FINAL,
      );
    });

    it('snapshot and read-optimized', async () => {
      const { dir, table } = await scenario;
      same(canon(await readSnapshot(table, { meta: true })), await hudiRsRows(dir), 'snapshot');
      same(canon(await readSnapshot(table, { meta: true, readOptimized: true })), await hudiRsRows(dir, { mode: 'read_optimized' }), 'read-optimized');
    });

    it('time travel to every completed instant', async () => {
      const { dir, table } = await scenario;
      for (const i of table.timeline.completed()) {
        same(canon(await readSnapshot(table, { meta: true, asOf: i.timestamp })), await hudiRsRows(dir, { asOf: i.timestamp }), `snapshot as of ${i.timestamp} (${i.action})`);
      }
    });

    it('incremental between consecutive instants', async () => {
      const { dir, table } = await scenario;
      const times = ['00000000000000000', ...table.timeline.completed().map((i) => i.timestamp)];
      for (let k = 1; k < times.length; k++) {
        const since = times[k - 1] as string;
        const until = times[k] as string;
        same(canon(await readIncremental(table, { meta: true, since, until })), await hudiRsRows(dir, { mode: 'incremental', start: since, end: until }), `incremental (${since}, ${until}]`);
      }
    });
  });
}

for (const partitioned of [false, true]) {
  describe(`hudi-rs reads a ${partitioned ? 'partitioned' : 'non-partitioned'} table whose timeline we archived as our reader does`, () => {
    it('snapshot, read-optimized and time travel to every retained instant', async () => {
      const { dir, table, archived } = await writeArchivedScenario(partitioned);
      assert.ok(archived.some((i) => i.action === 'replacecommit'), 'the truncate was archived');
      same(canon(await readSnapshot(table, { meta: true })), await hudiRsRows(dir), 'snapshot');
      same(canon(await readSnapshot(table, { meta: true, readOptimized: true })), await hudiRsRows(dir, { mode: 'read_optimized' }), 'read-optimized');
      const e = (await earliestRetainedInstant(table)) as string;
      for (const i of table.timeline.completed().filter((x) => x.timestamp >= e)) {
        same(canon(await readSnapshot(table, { meta: true, asOf: i.timestamp })), await hudiRsRows(dir, { asOf: i.timestamp }), `snapshot as of ${i.timestamp} (${i.action})`);
      }
    });
  });
}
