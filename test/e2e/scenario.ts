// The shared e2e workload: two PostgreSQL tables (one partitioned by `region`)
// through real Debezium → Kafka → the daemon → S3, with inserts, updates,
// deletes, a TRUNCATE, ADD COLUMN and an out-of-line TOAST value that stays
// unchanged while another column is updated (Debezium then sends
// `__debezium_unavailable_value` and the lake must keep the stored text).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic, type ConnectorFormat } from '../support/debezium.js';
import { cli, DaemonProcess, type DaemonSource } from '../support/daemon.js';
import { hudiRsRows } from '../support/oracle.js';
import { bigTextSql, parseJsonExact, selectRows, sql, type JsonRow } from '../support/postgres.js';
import { stackEnv } from '../support/stack-env.js';

/** Names for one test run: tables, connector, topics and S3 prefix are all unique. */
export interface RunNames {
  tag: string;
  plain: string;
  part: string;
  connector: string;
  topicPrefix: string;
  topics: string[];
  lake: string;
}

export function runNames(test: string): RunNames {
  const tag = `${test}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const plain = `e2e_${tag}_plain`;
  const part = `e2e_${tag}_part`;
  const topicPrefix = `e2e${tag}`;
  return {
    tag,
    plain,
    part,
    connector: `e2e_${tag}`,
    topicPrefix,
    topics: [`${topicPrefix}.public.${plain}`, `${topicPrefix}.public.${part}`],
    lake: `s3://${stackEnv().s3.bucket}/e2e/${tag}`,
  };
}

export async function createTables(n: RunNames): Promise<void> {
  await sql(`
    create table public.${n.plain} (id int primary key, name text, amount numeric(10,2), qty bigint, active boolean, born date, big text);
    alter table public.${n.plain} alter column big set storage external;
    create table public.${n.part} (id int primary key, region text not null, amount numeric(10,2), note text);
    insert into public.${n.plain} values
      (1, 'one', 10.50, 9007199254740993, true, '2024-01-02', ${bigTextSql()}),
      (2, 'two', 20.00, 2, false, '1999-12-31', 'small');
    insert into public.${n.part} values (1, 'eu', 1.10, 'a'), (2, 'us', 2.20, 'b');
  `);
}

/** A connector format, or the old boolean (`schemas.enable`: true → "json", false → "json-schemaless"). */
export type ScenarioFormat = ConnectorFormat | boolean;

function formatOf(f: ScenarioFormat): ConnectorFormat {
  return typeof f === 'boolean' ? (f ? 'json' : 'json-schemaless') : f;
}

/** Registers the connector (truncates emitted) in `format` and waits for both topics. */
export async function startConnector(n: RunNames, format: ScenarioFormat): Promise<void> {
  const f = formatOf(format);
  await registerPostgresConnector({
    name: n.connector,
    tables: [`public.${n.plain}`, `public.${n.part}`],
    topicPrefix: n.topicPrefix,
    schemas: f !== 'json-schemaless',
    format: f,
    extra: {
      'skipped.operations': 'none',
      // Schemaless JSON keeps values as they arrive: decimals as text compare as strings.
      ...(f === 'json-schemaless' ? { 'decimal.handling.mode': 'string' } : {}),
    },
  });
  await waitForConnectorRunning(n.connector);
  for (const t of n.topics) await waitForTopic(t, 90_000);
}

/** The streamed inserts (phase 1), including a second toasted value. */
export async function streamInserts(n: RunNames): Promise<void> {
  const p = `public.${n.plain}`;
  const q = `public.${n.part}`;
  await sql(`insert into ${p} values (3, 'three', 3.33, -3, null, null, ${bigTextSql(300)}), (4, 'four', 4.00, 4, true, '2020-02-29', null);`);
  await sql(`insert into ${q} values (3, 'eu', 3.30, 'c'), (4, 'apac', 4.40, 'd'), (5, 'us', 5.50, 'e');`);
}

/**
 * Phase 2, after phase 1 is committed: updates (two leave a toasted value
 * unchanged), deletes, ADD COLUMN, a transaction touching one key three times,
 * TRUNCATE and rows after it.
 */
export async function streamChanges(n: RunNames): Promise<void> {
  const p = `public.${n.plain}`;
  const q = `public.${n.part}`;
  // TOAST: big unchanged, only name/qty updated → Debezium sends the placeholder.
  await sql(`update ${p} set name = 'one-updated', qty = qty + 1 where id = 1;`);
  await sql(`update ${p} set name = 'three-updated' where id = 3;`);
  await sql(`update ${q} set amount = amount * 2, note = 'changed' where region = 'eu';`);
  await sql(`delete from ${p} where id = 2;`);
  await sql(`delete from ${q} where id = 2;`);
  await sql(`alter table ${p} add column extra int;`);
  await sql(`insert into ${p} (id, name, amount, qty, active, born, big, extra) values (5, 'five', 5.05, 5, false, '2001-01-01', 'x', 55);`);
  await sql(`update ${p} set extra = 11 where id = 1;`);
  await sql(`begin; update ${p} set amount = 99.99 where id = 4; delete from ${p} where id = 4; insert into ${p} (id, name, extra) values (4, 'four-again', 44); commit;`);
  // TRUNCATE the partitioned table, then new rows land after it.
  await sql(`truncate ${q};`);
  await sql(`insert into ${q} values (6, 'eu', 6.60, 'after truncate'), (7, 'latam', 7.70, null);`);
  await sql(`update ${q} set note = 'g' where id = 7;`);
}

/**
 * PostgreSQL rows in the JSONL conventions. Schemaless JSON keeps dates as epoch days;
 * Avro carries the Connect schema, so it compares like JSON with schema.
 */
export async function expectedRows(n: RunNames, format: ScenarioFormat): Promise<{ plain: JsonRow[]; part: JsonRow[] }> {
  const born = formatOf(format) !== 'json-schemaless' ? 'born::text as born' : `(born - date '1970-01-01') as born`;
  const plain = await selectRows(`public.${n.plain}`, `id, name, amount::text as amount, qty, active, ${born}, big, extra`, 'id');
  const part = await selectRows(`public.${n.part}`, `id, region, amount::text as amount, note`, 'id');
  return { plain: digestBig(plain), part };
}

/** Large texts become `<length>:<md5>` so assertion diffs stay readable. */
export function digestBig(rows: JsonRow[]): JsonRow[] {
  return rows.map((r) => (typeof r['big'] === 'string' && r['big'].length > 64 ? { ...r, big: `${r['big'].length}:${createHash('md5').update(r['big']).digest('hex')}` } : r));
}

/** `cdc-lake query snapshot --format jsonl`, rows sorted by id, only the given columns. */
export async function lakeRows(n: RunNames, table: string, columns: readonly string[]): Promise<JsonRow[]> {
  const res = await cli(['query', 'snapshot', '--lake', n.lake, '--table', `public.${table}`, '--format', 'jsonl']);
  assert.equal(res.code, 0, `query snapshot of public.${table} failed: ${res.stderr}`);
  return res.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => pick(parseJsonExact(l) as JsonRow, columns))
    .sort((a, b) => Number(a['id']) - Number(b['id']))
    .map((r) => digestBig([r])[0] as JsonRow);
}

export function pick(row: Record<string, unknown>, columns: readonly string[]): JsonRow {
  const o: JsonRow = {};
  for (const c of columns) o[c] = row[c] === undefined ? null : row[c];
  return o;
}

/** Retries `check` until it stops throwing or timeoutMs passes (then rethrows its last error). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 60_000, everyMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** hudi-rs rows reduced to the PostgreSQL columns, sorted by id, big texts digested. */
async function oracleRows(n: RunNames, table: string, columns: readonly string[]): Promise<JsonRow[]> {
  const rows = await hudiRsRows(`${n.lake}/public/${table}`);
  return digestBig(rows.map((r) => pick(r, columns)).sort((a, b) => Number(a['id']) - Number(b['id'])));
}

/**
 * The daemon's `source` section for a format: Avro needs the stack's registry, by its
 * Confluent-compatible address for Confluent framing, and by Apicurio's own (as its
 * converter is configured) for Apicurio's.
 */
function daemonSource(format: ConnectorFormat): DaemonSource | undefined {
  if (format !== 'avro' && format !== 'avro-apicurio') return undefined;
  const variable = format === 'avro' ? 'CDC_LAKE_SCHEMA_REGISTRY_URL' : 'APICURIO_REGISTRY_URL';
  const url = stackEnv().vars[variable];
  assert.ok(url, `${variable} is in .stack/env (scripts/stack up registry)`);
  return { format: 'avro', schemaRegistry: { url } };
}

/**
 * The whole pg-to-lake workload in one connector format: PostgreSQL → Debezium → Kafka →
 * `cdc-lake run` → S3; the lake's snapshot equals `SELECT *` and hudi-rs reads the same rows.
 */
export async function runPgToLake(format: ConnectorFormat): Promise<void> {
  const n = runNames({ json: 'json', avro: 'avro', 'avro-apicurio': 'apicu', 'json-schemaless': 'nosch' }[format]);
  try {
    await createTables(n);
    await startConnector(n, format);
    const source = daemonSource(format);
    const daemon = await DaemonProcess.start({
      lake: n.lake,
      topics: n.topics,
      groupId: `cdc-lake-${n.tag}`,
      overrides: { [`public.${n.part}`]: { partitionField: 'region' } },
      ...(source ? { source } : {}),
    });
    try {
      await streamInserts(n);
      await daemon.waitCaughtUp();
      await streamChanges(n);
      await daemon.waitCaughtUp();
      const want = await expectedRows(n, format);
      const plainCols = Object.keys(want.plain[0] ?? {});
      const partCols = Object.keys(want.part[0] ?? {});
      assert.ok(plainCols.includes('extra') && want.plain.length === 4 && want.part.length === 2, 'workload did not run as planned');
      // Debezium may still be delivering the tail: compare until equal or timeout.
      await eventually(async () => assert.deepEqual(await lakeRows(n, n.plain, plainCols), want.plain, `public.${n.plain} differs from PostgreSQL (${format})`));
      await eventually(async () => assert.deepEqual(await lakeRows(n, n.part, partCols), want.part, `public.${n.part} differs from PostgreSQL (${format})`));
      const big = want.plain.find((r) => r['id'] === 1n)?.['big'];
      assert.ok(typeof big === 'string' && /^12800:/.test(big), `the toasted value is > 8 kB (${String(big)})`);
      assert.deepEqual(await oracleRows(n, n.plain, plainCols), want.plain, 'hudi-rs reads public.plain as PostgreSQL has it');
      assert.deepEqual(await oracleRows(n, n.part, partCols), want.part, 'hudi-rs reads public.part as PostgreSQL has it');
      const status = await daemon.status();
      assert.equal(status.summary.deadLetters, 0, `no dead letters from a clean ${format} workload`);
      assert.ok(status.summary.changes > 0, `the daemon decoded ${format} changes`);
    } finally {
      const exit = await daemon.stop();
      assert.equal(exit.code, 0, `daemon exit: ${JSON.stringify(exit)}\n${daemon.logTail()}`);
    }
  } finally {
    await cleanup(n);
  }
}

export async function cleanup(n: RunNames): Promise<void> {
  await deleteConnector(n.connector).catch(() => undefined);
  await sql(`drop table if exists public.${n.plain}; drop table if exists public.${n.part};`).catch(() => undefined);
}

// --- the keyed workload shared by the crash campaign and the replica tests -------------

/** `cdc-lake <args> --format jsonl` rows (the command must succeed). */
export async function lakeJsonl(args: readonly string[]): Promise<JsonRow[]> {
  const res = await cli(args);
  assert.equal(res.code, 0, `${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => parseJsonExact(l) as JsonRow);
}

/** Creates `qualified` as (id int primary key, v bigint, note text) with `seed` rows. */
export async function createKeyedTable(qualified: string, seed = 50): Promise<void> {
  await sql(`create table ${qualified} (id int primary key, v bigint, note text); insert into ${qualified} select i, i, 'seed' from generate_series(1, ${seed}) i;`);
}

/**
 * Runs a transaction script again when PostgreSQL chose it as a deadlock victim (a
 * concurrent writer touched the same rows in another order): the victim was rolled back,
 * so running it again is what a client does.
 */
export async function retryOnDeadlock(run: () => Promise<unknown>, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await run();
      return;
    } catch (e) {
      if (i >= attempts || !/deadlock detected/.test(String(e))) throw e;
    }
  }
}

export interface Workload {
  /** Stops after the transaction in flight; resolves to the number of transactions run. */
  stop(): Promise<number>;
  /** Transactions committed so far. */
  readonly transactions: number;
}

/**
 * Small transactions on keyed tables (see createKeyedTable) until stop(): each inserts
 * a key, updates three random keys and, every third time, deletes one. The tables take
 * turns, so every table changes about every `pauseMs × tables.length` ms.
 */
export function keyedWorkload(tables: readonly string[], pauseMs = 50): Workload {
  let running = true;
  let txs = 0;
  const loop = (async () => {
    let next = 1000;
    while (running) {
      const id = next++;
      const table = tables[id % tables.length] as string;
      await retryOnDeadlock(() => sql(
        `begin;
         insert into ${table} values (${id}, 0, 'ins');
         update ${table} set v = v + 1, note = 'upd' where id in (select id from ${table} order by random() limit 3);
         delete from ${table} where id = (select id from ${table} order by random() limit 1) and ${Math.floor(id / tables.length) % 3} = 0;
         commit;`,
      ));
      txs++;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return txs;
    },
    get transactions() {
      return txs;
    },
  };
}

/** Long texts become `<length>:<md5>` so that diffs of big rows stay readable. */
function digestLong(v: unknown): unknown {
  return typeof v === 'string' && v.length > 64 ? `${v.length}:${createHash('md5').update(v).digest('hex')}` : v;
}

/** Asserts (retrying up to timeoutMs) that the lake's snapshot of a keyed table equals PostgreSQL. */
export async function assertKeyedTableEqual(lake: string, qualified: string, timeoutMs = 60_000): Promise<number> {
  const want = (await selectRows(qualified, 'id, v, note', 'id')).map((r) => ({ id: r['id'], v: r['v'], note: digestLong(r['note']) }));
  await eventually(async () => {
    const got = (await lakeJsonl(['query', 'snapshot', '--lake', lake, '--table', qualified, '--format', 'jsonl']))
      .map((r) => ({ id: r['id'], v: r['v'], note: digestLong(r['note']) }))
      .sort((a, b) => Number(a.id) - Number(b.id));
    assert.equal(got.length, want.length, `${qualified}: row count in the lake`);
    assert.deepEqual(got, want, `${qualified}: the lake's snapshot equals PostgreSQL`);
  }, timeoutMs);
  return want.length;
}

/**
 * Every change exactly once: `query changes` from the start holds no (key, source
 * position, op) in two commits, and per key the last change is the snapshot's row.
 * Returns the number of changes.
 */
export async function assertChangesOnce(lake: string, qualified: string): Promise<number> {
  const changes = await lakeJsonl(['query', 'changes', '--lake', lake, '--table', qualified, '--since', '00000000000000000', '--meta', '--format', 'jsonl']);
  const seen = new Map<string, string>();
  const lastPosition = new Map<string, string>();
  for (const c of changes) {
    const key = `${String(c['id'])}@${String(c['_cdc_position'])}/${String(c['_change_op'])}`;
    const prev = seen.get(key);
    assert.equal(prev, undefined, `${qualified}: change ${key} committed twice: instants ${prev} and ${String(c['_change_instant'])}`);
    seen.set(key, String(c['_change_instant']));
    lastPosition.set(String(c['id']), String(c['_cdc_position']));
  }
  const snap = await lakeJsonl(['query', 'snapshot', '--lake', lake, '--table', qualified, '--meta', '--format', 'jsonl']);
  assert.ok(changes.length >= snap.length, `${qualified}: the changes cover the table (${changes.length} changes, ${snap.length} rows)`);
  for (const r of snap) {
    assert.equal(lastPosition.get(String(r['id'])), String(r['_cdc_position']), `${qualified}: key ${String(r['id'])}: the last change is the snapshot's row`);
  }
  return changes.length;
}
