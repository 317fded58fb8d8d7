// The shared e2e workload: two PostgreSQL tables (one partitioned by `region`)
// through real Debezium → Kafka → the daemon → S3, with inserts, updates,
// deletes, a TRUNCATE, ADD COLUMN and an out-of-line TOAST value that stays
// unchanged while another column is updated (Debezium then sends
// `__debezium_unavailable_value` and the lake must keep the stored text).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { cli } from '../support/daemon.js';
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

/** Registers the connector (truncates emitted) and waits for both topics. */
export async function startConnector(n: RunNames, schemas: boolean): Promise<void> {
  await registerPostgresConnector({
    name: n.connector,
    tables: [`public.${n.plain}`, `public.${n.part}`],
    topicPrefix: n.topicPrefix,
    schemas,
    extra: {
      'skipped.operations': 'none',
      // Schemaless JSON keeps values as they arrive: decimals as text compare as strings.
      ...(schemas ? {} : { 'decimal.handling.mode': 'string' }),
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

/** PostgreSQL rows in the JSONL conventions (schemaless keeps dates as epoch days). */
export async function expectedRows(n: RunNames, schemas: boolean): Promise<{ plain: JsonRow[]; part: JsonRow[] }> {
  const born = schemas ? 'born::text as born' : `(born - date '1970-01-01') as born`;
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

export async function cleanup(n: RunNames): Promise<void> {
  await deleteConnector(n.connector).catch(() => undefined);
  await sql(`drop table if exists public.${n.plain}; drop table if exists public.${n.part};`).catch(() => undefined);
}
