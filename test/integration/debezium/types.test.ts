// Real Debezium output decodes to what PostgreSQL holds: a table with every common
// type (and a column added mid-stream) goes through the stack's Debezium 3.6 with
// JsonConverter; each decoded value, in the JSONL conventions, equals the SELECT.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createDecodeContext, decodeRecord, decodeRecordAsync, SchemaRegistryClient, SchemaTracker } from '../../../src/debezium/index.js';
import type { ChangeEvent, Decoded } from '../../../src/debezium/index.js';
import { formatValueJson } from '../../../src/query/output/index.js';
import type { TableSchema } from '../../../src/table/schema.js';
import { deleteConnector, readTopic, readTopicBytes, registerPostgresConnector, sql, waitForConnectorRunning, type ConnectorFormat } from '../../support/debezium.js';
import { stackEnv } from '../../support/stack-env.js';

const stamp = Date.now().toString(36);
const created: string[] = [];
const tables: string[] = [];
after(async () => {
  for (const name of created) await deleteConnector(name);
  for (const t of tables) await sql(`drop table if exists public.${t};`).catch(() => undefined);
});

function registryUrl(): string {
  const url = stackEnv().vars['CDC_LAKE_SCHEMA_REGISTRY_URL'];
  assert.ok(url, 'CDC_LAKE_SCHEMA_REGISTRY_URL is in .stack/env (scripts/stack up registry)');
  return url;
}

const COLUMNS = `id bigint primary key, small smallint, big bigint, amount numeric(10,2), free numeric, r real, d double precision,
  flag boolean not null default true, day date, t time(6), ts timestamp(6), ts3 timestamp(3), tstz timestamptz, doc jsonb, u uuid,
  raw bytea, tags text[], nums int[], mood MOOD, note text`;
const INSERT = `insert into TABLE (id, small, big, amount, free, r, d, flag, day, t, ts, ts3, tstz, doc, u, raw, tags, nums, mood, note) values
  (1, -7, 9007199254740993, 12.50, 3.14159, 1.5, -2.25, false, '2024-02-29', '13:45:10.123456', '2024-02-29 13:45:10.123456',
   '2024-02-29 13:45:10.123', '2024-02-29 13:45:10.123456+00', '{"a": [1, 2], "b": "x"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '\\x00ff10', '{a,NULL,b}', '{1,NULL,3}', 'happy', null)`;

/** PostgreSQL's text form of a value → the JSONL text the decoder's value must format to. */
const fromPg: Record<string, (text: string) => string> = {
  flag: (t) => (t === 't' || t === 'true' ? 'true' : 'false'),
  amount: (t) => JSON.stringify(t),
  free: (t) => JSON.stringify(t),
  day: (t) => JSON.stringify(t),
  t: (t) => JSON.stringify(t),
  ts: (t) => JSON.stringify(`${t.replace(' ', 'T')}Z`),
  ts3: (t) => JSON.stringify(`${t.replace(' ', 'T')}Z`),
  tstz: (t) => JSON.stringify(`${t.replace(' ', 'T').replace(/\+00$/, '')}Z`),
  doc: (t) => JSON.stringify(t),
  u: (t) => JSON.stringify(t),
  raw: (t) => JSON.stringify(Buffer.from(t.replace(/^\\x/, ''), 'hex').toString('base64')),
  tags: (t) => JSON.stringify(t.slice(1, -1).split(',').map((x) => (x === 'NULL' ? null : x))),
  nums: (t) => JSON.stringify(t.slice(1, -1).split(',').map((x) => (x === 'NULL' ? null : Number(x)))),
  mood: (t) => JSON.stringify(t),
  note: (t) => JSON.stringify(t),
  phone: (t) => JSON.stringify(t),
};

async function selectRow(table: string, id: number, columns: string[]): Promise<Record<string, string | null>> {
  // One value per line, NULL as a marker, in UTC so timestamptz prints as +00.
  const out = await sql(`set timezone = 'UTC'; select ${columns.map((c) => `coalesce(${c}::text, '<null>')`).join(` || E'\\x1f' || `)} from public.${table} where id = ${id};`);
  const values = out.replace(/\n$/, '').split('\x1f');
  return Object.fromEntries(columns.map((c, i) => [c, values[i] === '<null>' ? null : (values[i] as string)]));
}

function jsonOf(schema: TableSchema, row: Record<string, unknown>, column: string): string {
  const field = schema.fields.find((f) => f.name === column);
  assert.ok(field, `column ${column} is in the decoded schema`);
  return formatValueJson(row[column] as never, field.type);
}

const COLUMN_NAMES = ['id', 'small', 'big', 'amount', 'free', 'r', 'd', 'flag', 'day', 't', 'ts', 'ts3', 'tstz', 'doc', 'u', 'raw', 'tags', 'nums', 'mood', 'note', 'phone'];

interface RoundTrip {
  table: string;
  schema: TableSchema;
  insert1: ChangeEvent;
  update1: ChangeEvent;
  insert2: ChangeEvent;
}

/**
 * The every-type table through real Debezium in `format`: an insert, ADD COLUMN phone, an
 * insert using it and an update of the first row, decoded with decodeRecordAsync (Avro
 * through the project's registry client against the stack's registry).
 */
async function roundTrip(format: ConnectorFormat, tag: string): Promise<RoundTrip> {
  const table = `types_${tag}_${stamp}`;
  const name = `it-types-${table}`;
  const prefix = `types${tag}${stamp}`;
  await sql(`do $$ begin create type mood as enum ('sad', 'happy'); exception when duplicate_object then null; end $$;
    create table public.${table} (${COLUMNS}); alter table public.${table} replica identity full;`);
  created.push(name);
  tables.push(table);
  // JsonConverter would write a column's default in place of an explicit null. Schemaless
  // JSON cannot carry a decimal's scale, so decimals come as text there (the documented setting).
  const extra: Record<string, string> = {
    ...(format === 'avro' ? {} : { 'value.converter.replace.null.with.default': 'false' }),
    ...(format === 'json-schemaless' ? { 'decimal.handling.mode': 'string' } : {}),
  };
  await registerPostgresConnector({ name, tables: [`public.${table}`], topicPrefix: prefix, schemas: format !== 'json-schemaless', format, extra });
  await waitForConnectorRunning(name);
  await sql(INSERT.replace('TABLE', `public.${table}`));
  await sql(`alter table public.${table} add column phone varchar(32); insert into public.${table} (id, phone, flag) values (2, '+1-555-0100', true); update public.${table} set note = 'later' where id = 1;`);
  const records = await readTopicBytes(`${prefix}.public.${table}`, { until: (r) => r.length >= 3, timeoutMs: 120_000 });
  const tracker = new SchemaTracker();
  const ctx = createDecodeContext({ tracker, ...(format === 'avro' ? { registry: new SchemaRegistryClient({ url: registryUrl() }) } : {}) });
  const decoded: Decoded[] = [];
  for (const r of records) decoded.push(await decodeRecordAsync(r, ctx));
  for (const d of decoded) assert.equal(d.kind, 'change', d.kind === 'invalid' ? `${format}: ${d.error.message}` : d.kind);
  const changes = decoded.flatMap((d) => (d.kind === 'change' ? [d.event] : []));
  const insert1 = changes.find((e) => e.op === 'c' && e.row?.id === 1);
  const update1 = changes.find((e) => e.op === 'u' && e.row?.id === 1);
  const insert2 = changes.find((e) => e.op === 'c' && e.row?.id === 2);
  assert.ok(insert1 && update1 && insert2, `${format}: an insert, an insert after ADD COLUMN and an update`);
  assert.deepEqual(insert1.keyFields, ['id']);
  assert.equal(insert1.table, `public.${table}`);
  return { table, schema: tracker.schemaOf(`public.${table}`) as TableSchema, insert1, update1, insert2 };
}

/** Every column of rows 1 (after the update) and 2 formats to PostgreSQL's value; `override` maps a column to its expected JSONL text where the format documents a difference. */
async function assertRowsEqualSelect(rt: RoundTrip, label: string, override: Partial<Record<string, (pgText: string) => string>> = {}): Promise<void> {
  // The schema evolved: phone is a new nullable column, after note.
  assert.deepEqual(rt.schema.fields.slice(-2).map((f) => f.name), ['note', 'phone'], `${label}: phone added after note`);
  for (const [event, id] of [[rt.update1, 1], [rt.insert2, 2]] as const) {
    const want = await selectRow(rt.table, id, COLUMN_NAMES);
    for (const c of COLUMN_NAMES) {
      const text = want[c] ?? null;
      const expected = text === null ? 'null' : (override[c] ?? fromPg[c] ?? ((x: string) => x))(text);
      assert.equal(jsonOf(rt.schema, event.row as Record<string, unknown>, c), expected, `${label}: row ${id} column ${c} (PostgreSQL: ${text})`);
    }
  }
}

/** The JSON-with-schema table schema, for the Avro test to compare with (tests in a file run in order). */
let jsonSchema: TableSchema | undefined;

test('every type round-trips from PostgreSQL through Debezium (JSON with schema), also after ADD COLUMN', { timeout: 300_000 }, async () => {
  const json = await roundTrip('json', 'j');
  await assertRowsEqualSelect(json, 'JSON with schema');
  jsonSchema = json.schema;
});

test('every type round-trips through Debezium Avro via the schema registry, also after ADD COLUMN', { timeout: 300_000 }, async () => {
  const avro = await roundTrip('avro', 'a');
  await assertRowsEqualSelect(avro, 'Avro');
  // Avro carries the same Connect schema as JSON with schema: same column types.
  const json = jsonSchema ?? (await roundTrip('json', 'ja')).schema;
  assert.deepEqual(avro.schema.fields.map((f) => [f.name, f.type]), json.fields.map((f) => [f.name, f.type]), 'Avro and JSON with schema derive the same table schema');
});

/** Schemaless conventions (docs/debezium.md): temporal values stay the integers Debezium sends. */
const epochDays = (t: string): string => String(Date.parse(`${t}T00:00:00Z`) / 86_400_000);
const microsOfDay = (t: string): bigint => {
  const [h, m, s] = t.split(':');
  const [sec, frac = ''] = (s ?? '0').split('.');
  return (BigInt(Number(h) * 3600 + Number(m) * 60 + Number(sec)) * 1_000_000n) + BigInt(frac.padEnd(6, '0').slice(0, 6));
};
const epochMicros = (t: string): bigint => {
  const [date, time] = t.split(' ');
  return BigInt(Date.parse(`${date}T00:00:00Z`)) * 1000n + microsOfDay(time ?? '00:00:00');
};

test('every type through schemaless JSON: values as they arrived, the documented differences exactly', { timeout: 300_000 }, async () => {
  const rt = await roundTrip('json-schemaless', 's');
  await assertRowsEqualSelect(rt, 'schemaless JSON', {
    // No schema on the wire: Date/MicroTime/MicroTimestamp/Timestamp stay Debezium's integers.
    day: epochDays,
    t: (x) => String(microsOfDay(x)),
    ts: (x) => String(epochMicros(x)),
    ts3: (x) => String(epochMicros(x) / 1000n),
  });
});

test('schemaless JSON keeps values as they arrived, keys and positions intact', { timeout: 300_000 }, async () => {
  const table = `schemaless_${stamp}`;
  const name = `it-schemaless-${table}`;
  const prefix = `nos${stamp}`;
  await sql(`create table public.${table} (id int primary key, name text, amount numeric(10,2));`);
  created.push(name);
  await registerPostgresConnector({ name, tables: [`public.${table}`], topicPrefix: prefix, schemas: false, extra: { 'decimal.handling.mode': 'string' } });
  await waitForConnectorRunning(name);
  await sql(`insert into public.${table} values (1, 'a', 1.50); update public.${table} set name = 'b' where id = 1; delete from public.${table} where id = 1;`);
  const records = await readTopic(`${prefix}.public.${table}`, { until: (r) => r.length >= 4, timeoutMs: 120_000 });
  const ctx = createDecodeContext();
  const decoded = records.map((r) =>
    decodeRecord({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key === null ? null : Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) }, ctx),
  );
  assert.deepEqual(decoded.map((d) => (d.kind === 'change' ? d.event.op : d.kind)), ['c', 'u', 'd', 'tombstone']);
  const [c, u, d] = decoded.map((x) => (x.kind === "change" ? x.event : undefined));
  assert.deepEqual(c?.row, { id: 1, name: 'a', amount: '1.50' });
  assert.equal(u?.row?.name, 'b');
  assert.deepEqual(d?.key, { id: 1 });
  assert.ok(c && u && d && c.position.ordering < u.position.ordering && u.position.ordering < d.position.ordering, 'positions increase in commit order');
});
