// The stack's schema registry and real Debezium Avro: an INSERT goes through Apicurio's
// AvroConverter in the Confluent wire format (byte 0, 4-byte schema id, Avro body); the id
// resolves through the registry's Confluent-compatible API, and our decoder turns the Avro
// record into the same change event as the JsonConverter record of the same row. The
// converter's own framing (an 8-byte global id) decodes to the same row, through either
// address of the registry.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { createDecodeContext, decodeRecordAsync, SchemaRegistryClient } from "../../../src/debezium/index.js";
import type { Decoded } from "../../../src/debezium/index.js";
import { formatValueJson } from "../../../src/query/output/index.js";
import { deleteConnector, readTopic, readTopicBytes, registerPostgresConnector, sql, waitForConnectorRunning } from "../../support/debezium.js";
import { stackEnv } from "../../support/stack-env.js";

const stamp = Date.now().toString(36);
const created: string[] = [];
after(async () => {
  for (const name of created) await deleteConnector(name);
});

function registryUrl(): string {
  const url = stackEnv().vars["CDC_LAKE_SCHEMA_REGISTRY_URL"];
  assert.ok(url, "CDC_LAKE_SCHEMA_REGISTRY_URL is in .stack/env (scripts/stack up registry)");
  return url;
}

type Change = Extract<Decoded, { kind: "change" }>;

function change(d: Decoded): Change["event"] {
  assert.equal(d.kind, "change", `decoded as a change event: ${JSON.stringify(d, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}`);
  return (d as Change).event;
}

/** Every column of the decoded row in the JSONL text form (one comparison covers value and type). */
function rowText(e: Change["event"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of e.schema.fields) out[f.name] = formatValueJson((e.row?.[f.name] ?? null) as never, f.type);
  return out;
}

const COLUMNS = `id bigint primary key, small smallint, big bigint, amount numeric(10,2), r real, d double precision,
  flag boolean not null default true, day date, t time(6), ts timestamp(6), tstz timestamptz, doc jsonb, u uuid, raw bytea,
  tags text[], note text`;
const ROW = `(1, -7, 9007199254740993, 12.50, 1.5, -2.25, false, '2024-02-29', '13:45:10.123456', '2024-02-29 13:45:10.123456',
  '2024-02-29 13:45:10.123456+00', '{"a": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '{a,NULL,b}', null)`;

test("INSERT through real Debezium Avro (Confluent wire format) decodes like the JSON path", { timeout: 300_000 }, async () => {
  const table = `reg_${stamp}`;
  await sql(`create table public.${table} (${COLUMNS});`);
  try {
    const avroName = `stack-avro-${table}`;
    const jsonName = `stack-json-${table}`;
    created.push(avroName, jsonName);
    // Two connectors on one table: the same row once as Avro, once as JSON with schema.
    await registerPostgresConnector({ name: avroName, tables: [`public.${table}`], topicPrefix: `ravro${stamp}`, schemas: true, format: "avro" });
    await registerPostgresConnector({ name: jsonName, tables: [`public.${table}`], topicPrefix: `rjson${stamp}`, schemas: true });
    await waitForConnectorRunning(avroName);
    await waitForConnectorRunning(jsonName);
    await sql(`insert into public.${table} values ${ROW};`);

    const [avroRec] = await readTopicBytes(`ravro${stamp}.public.${table}`, { timeoutMs: 120_000 });
    const [jsonRec] = await readTopic(`rjson${stamp}.public.${table}`, { timeoutMs: 120_000 });
    assert.ok(avroRec?.value && avroRec.key && jsonRec?.value && jsonRec.key, "both topics have the insert");

    // Confluent framing on key and value.
    for (const [what, buf] of [["key", avroRec.key], ["value", avroRec.value]] as const) {
      assert.equal(buf[0], 0, `${what} starts with the Confluent magic byte 0`);
      assert.ok(buf.length > 5, `${what} has an Avro body after the 5-byte header`);
    }
    const valueId = avroRec.value.readUInt32BE(1);
    const client = new SchemaRegistryClient({ url: registryUrl() });
    const schema = JSON.parse(await client.schemaById(valueId)) as { type: string; name: string; fields: { name: string }[] };
    assert.equal(schema.type, "record");
    assert.deepEqual(schema.fields.map((f) => f.name).slice(0, 3), ["before", "after", "source"], "the value id names the Debezium envelope schema");

    const avroCtx = createDecodeContext({ registry: client });
    const jsonCtx = createDecodeContext();
    const a = change(await decodeRecordAsync({ topic: avroRec.topic, partition: avroRec.partition, offset: avroRec.offset, key: avroRec.key, value: avroRec.value }, avroCtx));
    const j = change(await decodeRecordAsync(
      { topic: jsonRec.topic, partition: jsonRec.partition, offset: jsonRec.offset, key: Buffer.from(jsonRec.key), value: Buffer.from(jsonRec.value) },
      jsonCtx,
    ));
    assert.equal(a.op, "c");
    assert.equal(a.table, `public.${table}`);
    assert.deepEqual(a.key, j.key);
    assert.deepEqual(a.keyFields, j.keyFields);
    assert.deepEqual(
      a.schema.fields.map((f) => [f.name, f.type]),
      j.schema.fields.map((f) => [f.name, f.type]),
      "Avro and JSON give the same table schema",
    );
    assert.deepEqual(rowText(a), rowText(j), "Avro and JSON give the same row");
    assert.equal(rowText(a)["big"], "9007199254740993", "int64 beyond 2^53 stays exact through Avro");

    // The converter's own defaults: Apicurio's framing (byte 0, 8-byte global id). Started
    // after the first converter registered its schemas (the registry's in-memory store
    // fails concurrent first registrations).
    const nativeName = `stack-apicurio-${table}`;
    created.push(nativeName);
    await registerPostgresConnector({ name: nativeName, tables: [`public.${table}`], topicPrefix: `rnative${stamp}`, schemas: true, format: "avro-apicurio" });
    await waitForConnectorRunning(nativeName);
    const [nativeRec] = await readTopicBytes(`rnative${stamp}.public.${table}`, { timeoutMs: 120_000 });
    assert.ok(nativeRec?.value && nativeRec.key, "the Apicurio-framed topic has the row");
    for (const [what, buf] of [["key", nativeRec.key], ["value", nativeRec.value]] as const) {
      assert.equal(buf.readUInt32BE(1), 0, `${what}: four zero bytes after the magic byte start an 8-byte id`);
      assert.ok(buf.readUInt32BE(5) > 0, `${what}: the 8-byte id`);
    }
    // Through either address of the registry: the ccompat one reaches Apicurio's own API too.
    for (const url of [registryUrl(), stackEnv().vars["APICURIO_REGISTRY_URL"] as string]) {
      const n = change(await decodeRecordAsync(
        { topic: nativeRec.topic, partition: nativeRec.partition, offset: nativeRec.offset, key: nativeRec.key, value: nativeRec.value },
        createDecodeContext({ registry: new SchemaRegistryClient({ url }) }),
      ));
      assert.equal(n.op, "r", "the row is in the connector's snapshot");
      assert.deepEqual(n.key, j.key);
      assert.deepEqual(n.schema.fields.map((f) => [f.name, f.type]), j.schema.fields.map((f) => [f.name, f.type]), `same table schema (${url})`);
      assert.deepEqual(rowText(n), rowText(j), `Apicurio framing gives the JSON row (${url})`);
    }
  } finally {
    for (const name of created.splice(0)) await deleteConnector(name).catch(() => undefined);
    await sql(`drop table if exists public.${table};`).catch(() => undefined);
  }
});
