// Bad records in a Debezium topic (design §3.5): each lands in the
// `_cdc_lake._dead_letters` table with its topic/partition/offset — already while
// the daemon runs, not only at shutdown — the good records land, the process stays up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { cli, DaemonProcess, e2eNames } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { parseJsonExact, selectRows, sql, type JsonRow } from '../support/postgres.js';
import { stackEnv } from '../support/stack-env.js';
import { eventually } from './scenario.js';

async function jsonl(args: string[]): Promise<JsonRow[]> {
  const res = await cli(args);
  assert.equal(res.code, 0, `${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => parseJsonExact(l) as JsonRow);
}

test('malformed records go to the dead-letters table; good records land; the daemon stays up', { timeout: 180_000 }, async () => {
  const { tag, table, prefix, topic, lake } = e2eNames('bad');
  await sql(`create table public.${table} (id int primary key, v text); insert into public.${table} values (1, 'a'), (2, 'b');`);
  try {
    await registerPostgresConnector({ name: `e2e_${tag}`, tables: [`public.${table}`], topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(`e2e_${tag}`);
    await waitForTopic(topic, 90_000);
    const daemon = await DaemonProcess.start({ lake, topics: [topic], groupId: `cdc-lake-${tag}` });
    const producer = new Producer({ clientId: `cdc-lake-e2e-${tag}`, bootstrapBrokers: [stackEnv().kafkaBootstrap], serializers: stringSerializers });
    try {
      await daemon.waitCaughtUp();
      const bad = [
        { key: '{"id":900}', value: 'this is not JSON {' },
        { key: '{"id":901}', value: '{"payload":{"op":"c"}}' },
        { key: '{"id":902}', value: '{"schema":{"type":"struct","fields":[]},"payload":{"op":"?","after":{"id":902}}}' },
      ];
      const sent = await producer.send({ messages: bad.map((m) => ({ topic, key: m.key, value: m.value })) });
      const offsets = (sent.offsets ?? []).map((o) => `${o.topic}:${o.partition}`);
      assert.equal(offsets.length > 0, true, 'producer reported offsets');
      await sql(`insert into public.${table} values (3, 'c'); update public.${table} set v = 'bb' where id = 2; delete from public.${table} where id = 1;`);
      await daemon.waitCaughtUp();
      assert.ok(daemon.running, `daemon stays up after bad records:\n${daemon.logTail()}`);
      const status = await daemon.status();
      assert.equal(status.summary.deadLetters, bad.length, 'every bad record counted');

      // While running: the dead letters are committed (a crash now would not lose them).
      const letters = await eventually(async () => {
        const rows = await jsonl(['query', 'snapshot', '--lake', lake, '--table', '_cdc_lake._dead_letters', '--format', 'jsonl']);
        assert.equal(rows.length, bad.length, `dead letters in the lake while running: ${JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
        return rows;
      }, 20_000);
      for (const l of letters) {
        assert.equal(l['topic'], topic);
        assert.match(String(l['id']), new RegExp(`^${topic.replace(/\./g, '\\.')}:0:\\d+$`));
      }
      const want = await selectRows(`public.${table}`, 'id, v', 'id');
      await eventually(async () => {
        const got = (await jsonl(['query', 'snapshot', '--lake', lake, '--table', `public.${table}`, '--format', 'jsonl']))
          .map((r) => ({ id: r['id'], v: r['v'] }))
          .sort((a, b) => Number(a.id) - Number(b.id));
        assert.deepEqual(got, want, 'good records land around the bad ones');
      }, 20_000);
      const exit = await daemon.stop();
      assert.equal(exit.code, 0, daemon.logTail());
      // The graceful stop does not write the letters a second time.
      assert.equal((await jsonl(['query', 'snapshot', '--lake', lake, '--table', '_cdc_lake._dead_letters', '--format', 'jsonl'])).length, bad.length);
    } finally {
      await producer.close().catch(() => undefined);
      await daemon.kill();
    }
  } finally {
    await deleteConnector(`e2e_${tag}`).catch(() => undefined);
    await sql(`drop table if exists public.${table};`).catch(() => undefined);
  }
});
