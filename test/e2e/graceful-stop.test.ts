// Graceful stop (issue 5): SIGTERM while changes are only buffered (maxAgeMs far
// away) → the daemon commits them and exits 0. A restart reads nothing twice:
// no new commit when nothing new arrived, same rows; a new change after the
// restart lands exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, DaemonProcess, type DaemonSpec, e2eNames, endOffsets, groupOffsets } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { parseJsonExact, selectRows, sql, type JsonRow } from '../support/postgres.js';

async function jsonl(args: string[]): Promise<JsonRow[]> {
  const res = await cli(args);
  assert.equal(res.code, 0, `${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => parseJsonExact(l) as JsonRow);
}

/** Waits until the daemon has `rows` buffered rows in total (and has committed nothing). */
async function waitBuffered(d: DaemonProcess, rows: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await d.status();
    const buffered = s.buffers.reduce((n, b) => n + b.rows, 0);
    assert.equal(s.summary.commits, 0, 'nothing committed before the stop (maxAgeMs is far away)');
    if (buffered >= rows) return;
    if (Date.now() > deadline) throw new Error(`only ${buffered}/${rows} rows buffered after ${timeoutMs} ms:\n${d.logTail()}`);
    await sleep(250);
  }
}

test('SIGTERM commits buffered changes and exits 0; a restart reads nothing twice', { timeout: 240_000 }, async () => {
  const { tag, table, prefix, topic, lake } = e2eNames('stop');
  const spec: DaemonSpec = { lake, topics: [topic], groupId: `cdc-lake-${tag}`, buffer: { maxAgeMs: 600_000 } };
  const snapshot = ['query', 'snapshot', '--lake', lake, '--table', `public.${table}`, '--format', 'jsonl'];
  const completedCommits = async (): Promise<string[]> =>
    (await jsonl(['timeline', '--lake', lake, '--table', `public.${table}`, '--format', 'jsonl']))
      .filter((i) => i['state'] === 'completed')
      .map((i) => String(i['instant']));
  const rowsOf = async (): Promise<JsonRow[]> =>
    (await jsonl(snapshot)).map((r) => ({ id: r['id'], v: r['v'], n: r['n'] })).sort((a, b) => Number(a.id) - Number(b.id));

  await sql(`create table public.${table} (id int primary key, v text, n bigint); insert into public.${table} select i, 'v' || i, i * 10 from generate_series(1, 20) i;`);
  try {
    await registerPostgresConnector({ name: `e2e_${tag}`, tables: [`public.${table}`], topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(`e2e_${tag}`);
    await waitForTopic(topic, 90_000);
    await sql(`update public.${table} set n = n + 1 where id <= 5; delete from public.${table} where id = 20; insert into public.${table} values (21, 'new', 0);`);

    const first = await DaemonProcess.start(spec);
    try {
      // 20 snapshot rows + 21 (ids 1–5 and 20 are updated/deleted in place: one row each per key).
      await waitBuffered(first, 21);
      const exit = await first.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, `graceful stop exits 0:\n${first.logTail()}`);
    } finally {
      await first.kill();
    }
    // The stop's commits were reported to the group before it left (monitoring sees no lag).
    const ends = (await endOffsets([topic])).filter((o) => o.includes('='));
    assert.deepEqual(await groupOffsets(spec.groupId, [topic]), ends.sort(), 'group offsets of the last commits were written before leaving');
    const want = await selectRows(`public.${table}`, 'id, v, n', 'id');
    assert.deepEqual(await rowsOf(), want, 'the buffered changes were committed on SIGTERM');
    const commits = await completedCommits();
    assert.ok(commits.length >= 1, 'at least one commit');

    // Restart with nothing new: no new commit, same rows, nothing applied again.
    const second = await DaemonProcess.start({ ...spec, buffer: { maxAgeMs: 500 } });
    try {
      const s = await second.waitCaughtUp({ quietMs: 2000 });
      assert.equal(s.summary.changes, 0, `restart re-applied nothing (status ${JSON.stringify(s.summary)})`);
      assert.equal(s.summary.commits, 0);
      // A change after the restart lands exactly once.
      await sql(`update public.${table} set v = 'after-restart' where id = 7;`);
      await second.waitCaughtUp({ quietMs: 2000 });
      const after = await second.status();
      assert.equal(after.summary.changes, 1, `exactly the one new change (status ${JSON.stringify(after.summary)})`);
      assert.equal((await second.stop()).code, 0, second.logTail());
    } finally {
      await second.kill();
    }
    assert.deepEqual(await rowsOf(), await selectRows(`public.${table}`, 'id, v, n', 'id'));
    assert.equal((await completedCommits()).length, commits.length + 1, 'one commit for the one new change');
  } finally {
    await deleteConnector(`e2e_${tag}`).catch(() => undefined);
    await sql(`drop table if exists public.${table};`).catch(() => undefined);
  }
});
