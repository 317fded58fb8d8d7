/**
 * Interop on S3: the scenario table written to the stack's S3 server (moto)
 * through S3Store is read by hudi-rs from `s3://…` exactly as our reader reads
 * it through the same store — snapshot, read-optimized, time travel and
 * incremental between consecutive instants; and once its timeline was archived.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { after, describe, it } from 'node:test';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { openStore } from '../../../src/storage/open-store.js';
import { readIncremental, readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { canonicalRows, describeDiff, hudiRsRows, sortOracle, type CanonicalRow } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { SCENARIO_FINAL, writeArchivedScenarioTo, writeScenarioTo } from './scenario.js';

const env = stackEnv();
// The SDK's default chain reads endpoint and credentials from the environment.
for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[k] ??= env.vars[k];

const canon = (res: QueryResult): CanonicalRow[] => canonicalRows(res.rows, res.schema);

async function ensureBucket(): Promise<void> {
  const client = new S3Client({ region: env.s3.region, endpoint: env.s3.endpoint, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: env.s3.bucket })).catch((e: { name?: string }) => {
    if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
  });
  client.destroy();
}

/** A fresh prefix of the stack's bucket and a store on it, emptied after the suite that calls this. */
function scratch(tag: string): { uri: string; store: ObjectStore } {
  const uri = `s3://${env.s3.bucket}/${tag}-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const store = openStore(uri);
  after(async () => {
    for (const o of await store.list('')) await store.delete(o.key);
    await store.close?.();
  });
  return { uri, store };
}

describe('hudi-rs reads a table we wrote to S3 as our reader does', () => {
  const { uri, store } = scratch('interop');

  it('snapshot, read-optimized, time travel and incremental agree', { timeout: 600_000 }, async () => {
    await ensureBucket();
    await writeScenarioTo(store, '', true);
    const table = await HudiTable.open(store, '');
    const final = (await readSnapshot(table)).rows.map((r) => `${String(r.id)}:${String(r.qty)}:${String(r.note)}`).sort();
    assert.deepEqual(final, SCENARIO_FINAL);
    const same = async (ours: Promise<QueryResult>, theirs: Promise<CanonicalRow[]>, what: string): Promise<void> => {
      const a = canon(await ours);
      const b = sortOracle(await theirs);
      assert.deepStrictEqual(a, b, `${what} of ${uri}\n${describeDiff(a, b)}`);
    };
    await same(readSnapshot(table, { meta: true }), hudiRsRows(uri), 'snapshot');
    await same(readSnapshot(table, { meta: true, readOptimized: true }), hudiRsRows(uri, { mode: 'read_optimized' }), 'read-optimized');
    const times = ['00000000000000000', ...table.timeline.completed().map((i) => i.timestamp)];
    for (let k = 1; k < times.length; k++) {
      const since = times[k - 1] as string;
      const until = times[k] as string;
      await same(readSnapshot(table, { meta: true, asOf: until }), hudiRsRows(uri, { asOf: until }), `snapshot as of ${until}`);
      await same(readIncremental(table, { meta: true, since, until }), hudiRsRows(uri, { mode: 'incremental', start: since, end: until }), `incremental (${since}, ${until}]`);
    }
  });
});

describe('hudi-rs reads a table on S3 whose timeline we archived as our reader does', () => {
  const { uri, store } = scratch('interop-archived');

  it('the reopened table knows its archive; snapshot and read-optimized agree', { timeout: 600_000 }, async () => {
    await ensureBucket();
    const { table, archived } = await writeArchivedScenarioTo(store, '', true);
    assert.ok(table.timeline.archived && archived.length > 0);
    for (const [what, opts] of [['snapshot', {}], ['read-optimized', { mode: 'read_optimized' as const }]] as const) {
      const ours = canon(await readSnapshot(table, { meta: true, ...(what === 'read-optimized' ? { readOptimized: true } : {}) }));
      const theirs = sortOracle(await hudiRsRows(uri, opts));
      assert.deepStrictEqual(ours, theirs, `${what} of ${uri}\n${describeDiff(ours, theirs)}`);
    }
  });
});
