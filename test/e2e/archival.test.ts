// A long-running table (issue 5, in-process maintenance): a steady trickle of PostgreSQL
// changes makes the daemon commit, compact and clean until it archives the table's
// timeline. The lake still equals PostgreSQL, hudi-rs reads the same rows from the
// archived table on S3, and a restart after archival takes its positions from the
// active timeline: it reads nothing twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARCHIVE_BATCH } from '../../src/table/archiver.js';
import { cli, DaemonProcess, type DaemonSpec, e2eNames } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { hudiRsRows } from '../support/oracle.js';
import { parseJsonExact, selectRows, sql, type JsonRow } from '../support/postgres.js';

const RETAIN = 2;

/** `cdc_lake_archived_instants_total` of the table, from the daemon's /metrics. */
async function archivedInstants(d: DaemonProcess, table: string): Promise<number> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`cdc_lake_archived_instants_total{table="${table}"}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('a long-running table: the daemon archives its timeline; the lake equals PostgreSQL, hudi-rs agrees, a restart reads nothing twice', { timeout: 420_000 }, async () => {
  const { tag, table, prefix, topic, lake } = e2eNames('archive');
  const qualified = `public.${table}`;
  const spec: DaemonSpec = { lake, topics: [topic], groupId: `cdc-lake-${tag}`, buffer: { maxAgeMs: 100 }, overrides: { [qualified]: { retention: { commits: RETAIN }, compaction: { everyDeltaCommits: 5 } } } };
  const rowsOf = (rows: JsonRow[]): JsonRow[] => rows.map((r) => ({ id: r['id'], v: r['v'], n: r['n'] })).sort((a, b) => Number(a.id) - Number(b.id));

  await sql(`create table public.${table} (id int primary key, v text, n bigint); insert into public.${table} select i, 'v' || i, 0 from generate_series(1, 10) i;`);
  try {
    await registerPostgresConnector({ name: `e2e_${tag}`, tables: [qualified], topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(`e2e_${tag}`);
    await waitForTopic(topic, 90_000);

    const first = await DaemonProcess.start(spec);
    try {
      await first.waitReady();
      // One small transaction at a time, each its own commit mostly, until the daemon has archived.
      let updates = 0;
      while ((await archivedInstants(first, qualified)) === 0) {
        assert.ok(updates < 4 * (RETAIN + ARCHIVE_BATCH), `no archival after ${updates} single-row transactions:\n${first.logTail()}`);
        await sql(`update public.${table} set n = n + 1, v = 'u${updates}' where id = ${(updates % 10) + 1};`);
        updates++;
        await sleep(150);
      }
      await sql(`update public.${table} set v = 'after-archival' where id = 3; delete from public.${table} where id = 4; insert into public.${table} values (11, 'new', 0);`);
      await first.waitCaughtUp({ quietMs: 2000 });
      assert.equal((await first.stop()).code, 0, first.logTail());
    } finally {
      await first.kill();
    }
    const want = await selectRows(qualified, 'id, v, n', 'id');
    const snap = await cli(['query', 'snapshot', '--lake', lake, '--table', qualified, '--format', 'jsonl']);
    assert.equal(snap.code, 0, snap.stderr);
    const ours = rowsOf(snap.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => parseJsonExact(l) as JsonRow));
    assert.deepEqual(ours, want, 'the archived table equals PostgreSQL');
    assert.deepEqual(rowsOf(await hudiRsRows(`${lake}/public/${table}`)), want, 'hudi-rs reads the archived table alike');

    // The restart takes its positions from the active timeline that archival left.
    const second = await DaemonProcess.start({ ...spec, buffer: { maxAgeMs: 500 } });
    try {
      const s = await second.waitCaughtUp({ quietMs: 2000 });
      assert.equal(s.summary.changes, 0, `restart re-applied nothing (status ${JSON.stringify(s.summary)})`);
      assert.equal(s.summary.commits, 0);
      assert.equal((await second.stop()).code, 0, second.logTail());
    } finally {
      await second.kill();
    }
  } finally {
    await deleteConnector(`e2e_${tag}`).catch(() => undefined);
  }
});
