// Transaction-aligned commits (issue 5) through real Debezium with
// provide.transaction.metadata=true: multi-statement PostgreSQL transactions move
// balance between rows of two tables, so each table's sum(bal) and row count are
// the same after every whole transaction. With tiny flush limits (3 rows) every
// transaction is cut by a flush unless the daemon holds it back; so every completed
// instant of each lake table must show the invariant sum and count, and the final
// snapshot must equal PostgreSQL.
// Check that it can fail: CDC_LAKE_TRANSACTIONS__ALIGN=false makes the daemon commit half transactions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { selectRows, sql, type JsonRow } from '../support/postgres.js';
import { stackEnv } from '../support/stack-env.js';
import { lakeJsonl } from './scenario.js';

const ROWS = 8;
const START = 100;

test('no commit of a table holds part of a PostgreSQL transaction; the final snapshot equals PostgreSQL', { timeout: 900_000 }, async () => {
  const tag = `tx_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const ta = `e2e_${tag}_a`;
  const tb = `e2e_${tag}_b`;
  const prefix = `e2e${tag}`;
  const connector = `e2e_${tag}`;
  const topics = [`${prefix}.public.${ta}`, `${prefix}.public.${tb}`, `${prefix}.transaction`];
  const lake = `s3://${stackEnv().s3.bucket}/e2e/${tag}`;
  await sql(`create table public.${ta} (id int primary key, bal bigint not null, tx int not null);
             create table public.${tb} (id int primary key, bal bigint not null, tx int not null);`);
  let daemon: DaemonProcess | undefined;
  try {
    await registerPostgresConnector({ name: connector, tables: [`public.${ta}`, `public.${tb}`], topicPrefix: prefix, schemas: true, extra: {
      'provide.transaction.metadata': 'true',
      // tiny connector batches: a transaction's records reach Kafka over several polls, so the daemon sees parts of it
      'max.batch.size': '3',
      'max.queue.size': '12',
    } });
    await waitForConnectorRunning(connector);
    // T0: the seed, one transaction over both tables (ROWS events each: more than a flush holds)
    await sql(`begin;
      insert into public.${ta} select i, ${START}, 0 from generate_series(1, ${ROWS}) i;
      insert into public.${tb} select i, ${START}, 0 from generate_series(1, ${ROWS}) i;
      commit;`);
    for (const t of topics) await waitForTopic(t, 90_000);
    daemon = await DaemonProcess.start({ lake, topics, groupId: `cdc-lake-${tag}`, buffer: { maxRows: 3, maxAgeMs: 300 } });
    await daemon.waitReady();

    // 30 transactions, each touching both tables with several statements; every 5th also
    // moves a row to a new key (delete + insert), so deletes are cut too.
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    for (let n = 1; n <= 30; n++) {
      const stmts: string[] = [];
      for (let k = 0; k < 4; k++) {
        for (const t of [ta, tb]) {
          const i = rnd(ROWS);
          const j = (i + 1 + rnd(ROWS - 1)) % ROWS;
          const x = 1 + rnd(20);
          stmts.push(`update public.${t} set bal = bal - ${x}, tx = ${n} where id = (select id from public.${t} order by id offset ${i} limit 1);`);
          stmts.push(`update public.${t} set bal = bal + ${x}, tx = ${n} where id = (select id from public.${t} order by id offset ${j} limit 1);`);
        }
      }
      if (n % 5 === 0) {
        for (const t of [ta, tb]) stmts.push(`with d as (delete from public.${t} where id = (select min(id) from public.${t}) returning id, bal) insert into public.${t} select id + 1000, bal, ${n} from d;`);
      }
      await sql(`begin; ${stmts.join(' ')} commit;`);
      await sleep(100);
    }
    const status = await daemon.waitCaughtUp({ quietMs: 3000, timeoutMs: 180_000 });
    assert.equal(status.summary.deadLetters, 0, daemon.logTail());
    const metrics = await (await fetch(`${daemon.url ?? ''}/metrics`)).text();
    const holds = metrics.split('\n').filter((l) => l.startsWith('cdc_lake_transaction_holds_total{')).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    assert.equal((await daemon.stop()).code, 0, daemon.logTail());

    for (const t of [ta, tb]) {
      const table = `public.${t}`;
      const want = await selectRows(table, 'id, bal, tx', 'id');
      const rows = (await lakeJsonl(['query', 'snapshot', '--lake', lake, '--table', table, '--format', 'jsonl']))
        .map((r): JsonRow => ({ id: r['id'], bal: r['bal'], tx: r['tx'] }))
        .sort((a, b) => Number(a['id']) - Number(b['id']));
      assert.deepEqual(rows, want, `${table}: the lake equals PostgreSQL`);

      const instants = (await lakeJsonl(['timeline', '--lake', lake, '--table', table, '--format', 'jsonl']))
        .filter((i) => i['state'] === 'completed' && i['action'] === 'deltacommit')
        .map((i) => String(i['instant']));
      assert.ok(instants.length >= 5, `${table}: several commits (${instants.length})`);
      const check = async (instant: string): Promise<void> => {
        const snap = await lakeJsonl(['query', 'snapshot', '--lake', lake, '--table', table, '--as-of', instant, '--format', 'jsonl']);
        const sum = snap.reduce((s, r) => s + Number(r['bal']), 0);
        const shown = (): string => snap.map((r) => `${String(r['id'])}:${String(r['bal'])}@tx${String(r['tx'])}`).join(' ');
        assert.equal(snap.length, ROWS, `${table} as of ${instant}: ${snap.length} rows, a transaction was cut: ${shown()}`);
        assert.equal(sum, ROWS * START, `${table} as of ${instant}: sum ${sum}, a transaction was cut: ${shown()}`);
      };
      for (let i = 0; i < instants.length; i += 4) await Promise.all(instants.slice(i, i + 4).map(check));
    }
    // last: with alignment off (CDC_LAKE_TRANSACTIONS__ALIGN=false) the invariant checks above are the ones that fail
    assert.ok(holds > 0, `some flush held rows back (the limits cut transactions):\n${metrics.split('\n').filter((l) => l.includes('transaction')).join('\n')}`);
  } finally {
    await daemon?.kill();
    await deleteConnector(connector).catch(() => undefined);
    await sql(`drop table if exists public.${ta}; drop table if exists public.${tb};`).catch(() => undefined);
  }
});
