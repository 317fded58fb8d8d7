// Crash campaign (issue 5, smaller): while PostgreSQL takes inserts, updates and
// deletes, `kill -9` the daemon at random moments and restart it each time.
// After the final catch-up the table equals PostgreSQL, and `query changes` from
// the beginning holds no change twice (no two commits applied the same source
// position of a key) and ends, per key, at the snapshot's position.
//
// E2E_CRASHES sets the number of kills (default 5, to keep CI short; the issue
// asks for ≥ 20: `E2E_CRASHES=20 node --import tsx --test test/e2e/crash-campaign.test.ts`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, DaemonProcess, type DaemonSpec } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { parseJsonExact, selectRows, sql, type JsonRow } from '../support/postgres.js';
import { stackEnv } from '../support/stack-env.js';
import { eventually } from './scenario.js';

const CRASHES = Number(process.env['E2E_CRASHES'] ?? 5);

async function jsonl(args: string[]): Promise<JsonRow[]> {
  const res = await cli(args);
  assert.equal(res.code, 0, `${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => parseJsonExact(l) as JsonRow);
}

/** Inserts, updates and deletes in small transactions until `stop()` is called. */
function workload(table: string): { stop: () => Promise<number> } {
  let running = true;
  let txs = 0;
  const loop = (async () => {
    let next = 1000;
    while (running) {
      const id = next++;
      await sql(
        `begin;
         insert into ${table} values (${id}, 0, 'ins');
         update ${table} set v = v + 1, note = 'upd' where id in (select id from ${table} order by random() limit 3);
         delete from ${table} where id = (select id from ${table} order by random() limit 1) and ${id % 3} = 0;
         commit;`,
      );
      txs++;
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return txs;
    },
  };
}

test(`crash campaign: kill -9 the daemon ${CRASHES}× during a workload; the table equals PostgreSQL, no change applied twice`, { timeout: 120_000 + CRASHES * 20_000 }, async () => {
  assert.ok(Number.isInteger(CRASHES) && CRASHES >= 1, `E2E_CRASHES=${process.env['E2E_CRASHES']} is not a positive integer`);
  const tag = `crash_${Date.now().toString(36)}`;
  const table = `e2e_${tag}`;
  const qualified = `public.${table}`;
  const prefix = `e2e${tag}`;
  const topic = `${prefix}.${qualified}`;
  const lake = `s3://${stackEnv().s3.bucket}/e2e/${tag}`;
  const spec: DaemonSpec = { lake, topics: [topic], groupId: `cdc-lake-${tag}`, buffer: { maxAgeMs: 300 } };
  await sql(`create table ${qualified} (id int primary key, v bigint, note text); insert into ${qualified} select i, i, 'seed' from generate_series(1, 50) i;`);
  let daemon: DaemonProcess | undefined;
  try {
    await registerPostgresConnector({ name: `e2e_${tag}`, tables: [qualified], topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(`e2e_${tag}`);
    await waitForTopic(topic, 90_000);
    const load = workload(qualified);
    const kills: number[] = [];
    try {
      daemon = await DaemonProcess.start(spec);
      for (let i = 0; i < CRASHES; i++) {
        const after = 500 + Math.floor(Math.random() * 3500);
        await sleep(after);
        assert.ok(daemon.running, `daemon died by itself before kill ${i + 1}:\n${daemon.logTail()}`);
        await daemon.kill();
        kills.push(after);
        // A fresh consumer group per restart: the killed member would hold the group's
        // assignment until its session times out (30 s); positions come from the table anyway.
        daemon = await DaemonProcess.start({ ...spec, groupId: `${spec.groupId}-${i + 1}` });
      }
    } finally {
      const txs = await load.stop();
      assert.ok(txs > CRASHES, `the workload ran (${txs} transactions)`);
    }
    await daemon.waitCaughtUp({ timeoutMs: 120_000, quietMs: 3000 });
    const want = await selectRows(qualified, 'id, v, note', 'id');
    await eventually(async () => {
      const got = (await jsonl(['query', 'snapshot', '--lake', lake, '--table', qualified, '--format', 'jsonl']))
        .map((r) => ({ id: r['id'], v: r['v'], note: r['note'] }))
        .sort((a, b) => Number(a.id) - Number(b.id));
      assert.equal(got.length, want.length, `row count after ${kills.length} kills at ${kills.join(', ')} ms`);
      assert.deepEqual(got, want, `table equals PostgreSQL after ${kills.length} kills`);
    }, 90_000);

    // Every change once: no (key, source position) in two commits.
    const changes = await jsonl(['query', 'changes', '--lake', lake, '--table', qualified, '--since', '00000000000000000', '--meta', '--format', 'jsonl']);
    assert.ok(changes.length >= want.length, `changes cover the table (${changes.length} changes)`);
    const seen = new Map<string, string>();
    const lastPosition = new Map<string, string>();
    for (const c of changes) {
      const key = `${String(c['id'])}@${String(c['_cdc_position'])}/${String(c['_change_op'])}`;
      const prev = seen.get(key);
      assert.equal(prev, undefined, `change ${key} committed twice: instants ${prev} and ${String(c['_change_instant'])}`);
      seen.set(key, String(c['_change_instant']));
      lastPosition.set(String(c['id']), String(c['_cdc_position']));
    }
    const snap = await jsonl(['query', 'snapshot', '--lake', lake, '--table', qualified, '--meta', '--format', 'jsonl']);
    for (const r of snap) {
      assert.equal(lastPosition.get(String(r['id'])), String(r['_cdc_position']), `key ${String(r['id'])}: the last change is the snapshot's row`);
    }
    assert.equal((await daemon.stop()).code, 0, daemon.logTail());
  } finally {
    await daemon?.kill();
    await deleteConnector(`e2e_${tag}`).catch(() => undefined);
    await sql(`drop table if exists ${qualified};`).catch(() => undefined);
  }
});
