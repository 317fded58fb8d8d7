/**
 * Conformance: our reader reads the Spark-written v6 fixtures in
 * `shared/fixtures/hudi/` exactly as hudi-rs does — snapshot, read-optimized,
 * time travel to every completed instant and incremental between consecutive
 * instants, every column including the `_hoodie_*` meta columns. The v8/v9
 * tables are refused with a clear "table version unsupported" error.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { readIncremental, readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { extractHudiFixture, sharedFixturesDir } from '../../support/fixtures.js';
import { canonicalRows, describeDiff, hudiRsRows, sortOracle, type CanonicalRow } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';

stackEnv(); // fail loudly (StackNotRunningError) when HUDI_PYTHON is not configured

const zips = readdirSync(sharedFixturesDir()).filter((f) => f.endsWith('.zip')).sort();
const v6Tables = zips.filter((z) => /__v6_/.test(z));
const newerVersions = zips.filter((z) => /__v(8|9)_/.test(z));

async function open(dir: string): Promise<HudiTable> {
  return HudiTable.open(new LocalStore(dir), '');
}

function ours(res: QueryResult): CanonicalRow[] {
  return canonicalRows(res.rows, res.schema);
}

function same(a: CanonicalRow[], b: CanonicalRow[], what: string): void {
  const theirs = sortOracle(b);
  assert.deepStrictEqual(a, theirs, `${what}\n${describeDiff(a, theirs)}`);
}

describe('conformance with hudi-rs on Spark-written v6 tables (MOR, and COW for contrast)', () => {
  it('has fixtures to check', () => {
    assert.ok(v6Tables.length >= 6, `expected the v6 MOR fixtures in ${sharedFixturesDir()}, found ${v6Tables.join(', ')}`);
    assert.ok(newerVersions.length >= 2);
  });

  for (const zip of v6Tables) {
    describe(zip, () => {
      it('snapshot and read-optimized', async () => {
        const dir = await extractHudiFixture(zip);
        const table = await open(dir);
        same(ours(await readSnapshot(table, { meta: true })), await hudiRsRows(dir), `snapshot of ${zip}`);
        same(ours(await readSnapshot(table, { meta: true, readOptimized: true })), await hudiRsRows(dir, { mode: 'read_optimized' }), `read-optimized of ${zip}`);
      });

      it('time travel to every completed instant', async () => {
        const dir = await extractHudiFixture(zip);
        const table = await open(dir);
        for (const i of table.timeline.completed()) {
          same(ours(await readSnapshot(table, { meta: true, asOf: i.timestamp })), await hudiRsRows(dir, { asOf: i.timestamp }), `snapshot of ${zip} as of ${i.timestamp}`);
        }
      });

      it('incremental between consecutive instants', async () => {
        const dir = await extractHudiFixture(zip);
        const table = await open(dir);
        const times = ['00000000000000000', ...table.timeline.completed().map((i) => i.timestamp)];
        for (let k = 1; k < times.length; k++) {
          const since = times[k - 1] as string;
          const until = times[k] as string;
          same(ours(await readIncremental(table, { meta: true, since, until })), await hudiRsRows(dir, { mode: 'incremental', start: since, end: until }), `incremental of ${zip} (${since}, ${until}]`);
        }
        if (times.length > 2) {
          const since = times[0] as string;
          same(ours(await readIncremental(table, { meta: true, since })), await hudiRsRows(dir, { mode: 'incremental', start: since }), `incremental of ${zip} since ${since}`);
        }
      });
    });
  }

  for (const zip of newerVersions) {
    it(`refuses ${zip}: table version unsupported`, async () => {
      const dir = await extractHudiFixture(zip);
      await assert.rejects(
        async () => readSnapshot(await open(dir)),
        (e: Error) => /table version [89].*(unsupported|not supported)/i.test(e.message) && e.message.includes('6'),
      );
    });
  }
});

