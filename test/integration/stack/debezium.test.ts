// The stack's PostgreSQL -> Debezium -> Kafka path is real: an INSERT shows up
// as a Debezium envelope, with JsonConverter schemas on and off.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { deleteConnector, readTopic, registerPostgresConnector, sql, waitForConnectorRunning } from "../../support/debezium.js";

const run = `${Date.now().toString(36)}`;
const created: string[] = [];
after(async () => {
  for (const name of created) await deleteConnector(name);
});

interface Envelope {
  op: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  source: Record<string, unknown>;
}

for (const schemas of [true, false]) {
  test(`INSERT appears as a Debezium envelope (schemas ${schemas ? "on" : "off"})`, async () => {
    const table = `smoke_${run}_${schemas ? "s" : "n"}`;
    const name = `stack-smoke-${table}`;
    const prefix = `smoke${run}${schemas ? "s" : "n"}`;
    await sql(`create table public.${table} (id int primary key, name text not null, amount numeric(10,2));`);
    created.push(name);
    await registerPostgresConnector({ name, tables: [`public.${table}`], topicPrefix: prefix, schemas });
    await waitForConnectorRunning(name);
    await sql(`insert into public.${table} values (1, 'alice', 12.50);`);
    const records = await readTopic(`${prefix}.public.${table}`, { timeoutMs: 90_000 });
    const raw = JSON.parse(records[0]?.value ?? "null") as Record<string, unknown>;
    let env: Envelope;
    if (schemas) {
      assert.ok(raw["schema"] && typeof raw["schema"] === "object", "schemas on: value has a schema");
      assert.equal((raw["schema"] as Record<string, unknown>)["name"], `${prefix}.public.${table}.Envelope`);
      env = raw["payload"] as Envelope;
    } else {
      assert.equal(raw["schema"], undefined, "schemas off: no schema wrapper");
      env = raw as unknown as Envelope;
    }
    assert.equal(env.op, "c");
    assert.equal(env.before, null);
    assert.equal(env.after?.["id"], 1);
    assert.equal(env.after?.["name"], "alice");
    assert.equal(env.source["connector"], "postgresql");
    assert.equal(env.source["table"], table);
    assert.equal(typeof env.source["lsn"], "number");
    const key = JSON.parse(records[0]?.key ?? "null") as Record<string, unknown>;
    assert.deepEqual(schemas ? key["payload"] : key, { id: 1 });
  });
}
