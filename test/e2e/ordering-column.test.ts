// A table ordered by a column (tables.overrides.<t>.ordering) through real PostgreSQL,
// Debezium (JSON with schema) and Kafka: `updated_at timestamptz` decides, read from
// Debezium's ISO text. Inserts, updates, a DEFAULT-identity delete and a re-insert with a
// later timestamp land as in PostgreSQL; an update that moves updated_at back in time
// loses to the row already in the lake (the column decides, not the read order).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, DaemonProcess, type DaemonSpec, e2eNames } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { parseJsonExact, selectRows, sql, type JsonRow } from '../support/postgres.js';

test('ordering by updated_at: the lake equals PostgreSQL, except where updated_at went back in time', { timeout: 300_000 }, async () => {
  const { tag, table, prefix, topic, lake } = e2eNames('ord');
  const spec: DaemonSpec = { lake, topics: [topic], groupId: `cdc-lake-${tag}`, overrides: { [`public.${table}`]: { ordering: 'updated_at' } } };
  const rowsOf = async (): Promise<JsonRow[]> => {
    const res = await cli(['query', 'snapshot', '--lake', lake, '--table', `public.${table}`, '--format', 'jsonl']);
    assert.equal(res.code, 0, res.stderr);
    return res.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => parseJsonExact(l) as JsonRow)
      .map((r) => ({ id: r['id'], v: r['v'] }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  };

  await sql(`create table public.${table} (id int primary key, v text, updated_at timestamptz not null default clock_timestamp()); insert into public.${table} (id, v) select i, 'v' || i from generate_series(1, 10) i;`);
  try {
    await registerPostgresConnector({ name: `e2e_${tag}`, tables: [`public.${table}`], topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(`e2e_${tag}`);
    await waitForTopic(topic, 90_000);
    const daemon = await DaemonProcess.start(spec);
    try {
      await sql(`update public.${table} set v = 'new', updated_at = clock_timestamp() where id <= 3;
        delete from public.${table} where id = 4;
        insert into public.${table} (id, v) values (4, 'back'), (11, 'eleven');
        delete from public.${table} where id = 5;`);
      await daemon.waitCaughtUp({ quietMs: 2000 });
      assert.deepEqual(await rowsOf(), await selectRows(`public.${table}`, 'id, v', 'id'), 'the lake equals PostgreSQL');
      // The column decides: an update that sets updated_at into the past loses to the stored row.
      await sql(`update public.${table} set v = 'from the past', updated_at = '2000-01-01T00:00:00Z' where id = 6;`);
      await daemon.waitCaughtUp({ quietMs: 2000 });
      const want = (await selectRows(`public.${table}`, 'id, v', 'id')).map((r) => (r['id'] === 6n ? { ...r, v: 'v6' } : r));
      assert.deepEqual(await rowsOf(), want, 'row 6 keeps its later version');
      const status = await daemon.status();
      assert.equal(status.summary.deadLetters, 0, 'every change had a usable updated_at');
      assert.equal((await daemon.stop()).code, 0, daemon.logTail());
    } finally {
      await daemon.kill();
    }
  } finally {
    await deleteConnector(`e2e_${tag}`).catch(() => undefined);
    await sql(`drop table if exists public.${table};`).catch(() => undefined);
  }
});
