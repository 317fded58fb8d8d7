// End to end through Avro: PostgreSQL → Debezium with Apicurio's AvroConverter (Confluent
// wire format, schemas in the stack's registry) → Kafka → `cdc-lake run` (registry from
// CDC_LAKE_SOURCE__SCHEMA_REGISTRY__URL) → moto S3 → `cdc-lake query snapshot` equals
// `SELECT *`, and hudi-rs reads the same rows. Same workload as pg-to-lake.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonProcess } from '../support/daemon.js';
import { registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { hudiRsRows } from '../support/oracle.js';
import { stackEnv } from '../support/stack-env.js';
import { cleanup, createTables, digestBig, eventually, expectedRows, lakeRows, pick, runNames, streamChanges, streamInserts, type RunNames } from './scenario.js';

async function startAvroConnector(n: RunNames): Promise<void> {
  await registerPostgresConnector({
    name: n.connector,
    tables: [`public.${n.plain}`, `public.${n.part}`],
    topicPrefix: n.topicPrefix,
    schemas: true,
    format: 'avro',
    extra: { 'skipped.operations': 'none' },
  });
  await waitForConnectorRunning(n.connector);
  for (const t of n.topics) await waitForTopic(t, 90_000);
}

test('PostgreSQL → Debezium Avro + schema registry → Kafka → daemon → S3: snapshot equals SELECT *, hudi-rs agrees', { timeout: 300_000 }, async () => {
  const registry = stackEnv().vars['CDC_LAKE_SCHEMA_REGISTRY_URL'];
  assert.ok(registry, 'CDC_LAKE_SCHEMA_REGISTRY_URL is in .stack/env (scripts/stack up registry)');
  const n = runNames('avro');
  // The daemon inherits process.env: its source settings come in as config overrides.
  const saved = { url: process.env['CDC_LAKE_SOURCE__SCHEMA_REGISTRY__URL'], format: process.env['CDC_LAKE_SOURCE__FORMAT'] };
  process.env['CDC_LAKE_SOURCE__SCHEMA_REGISTRY__URL'] = registry;
  process.env['CDC_LAKE_SOURCE__FORMAT'] = 'avro';
  try {
    await createTables(n);
    await startAvroConnector(n);
    const daemon = await DaemonProcess.start({
      lake: n.lake,
      topics: n.topics,
      groupId: `cdc-lake-${n.tag}`,
      overrides: { [`public.${n.part}`]: { partitionField: 'region' } },
    });
    try {
      await streamInserts(n);
      await daemon.waitCaughtUp();
      await streamChanges(n);
      await daemon.waitCaughtUp();
      // Avro carries the Connect schema, so values compare as with JSON-with-schema.
      const want = await expectedRows(n, true);
      const plainCols = Object.keys(want.plain[0] ?? {});
      const partCols = Object.keys(want.part[0] ?? {});
      assert.ok(plainCols.includes('extra') && want.plain.length === 4 && want.part.length === 2, 'workload did not run as planned');
      await eventually(async () => assert.deepEqual(await lakeRows(n, n.plain, plainCols), want.plain, `public.${n.plain} differs from PostgreSQL`));
      await eventually(async () => assert.deepEqual(await lakeRows(n, n.part, partCols), want.part, `public.${n.part} differs from PostgreSQL`));
      const oracle = async (table: string, cols: readonly string[]): Promise<unknown> =>
        digestBig((await hudiRsRows(`${n.lake}/public/${table}`)).map((r) => pick(r, cols)).sort((a, b) => Number(a['id']) - Number(b['id'])));
      assert.deepEqual(await oracle(n.plain, plainCols), want.plain, 'hudi-rs reads public.plain as PostgreSQL has it');
      assert.deepEqual(await oracle(n.part, partCols), want.part, 'hudi-rs reads public.part as PostgreSQL has it');
      const status = await daemon.status();
      assert.equal(status.summary.deadLetters, 0, 'no dead letters from a clean Avro workload');
      assert.ok(status.summary.changes > 0, 'the daemon decoded Avro changes');
    } finally {
      const exit = await daemon.stop();
      assert.equal(exit.code, 0, `daemon exit: ${JSON.stringify(exit)}\n${daemon.logTail()}`);
    }
  } finally {
    for (const [k, v] of [['CDC_LAKE_SOURCE__SCHEMA_REGISTRY__URL', saved.url], ['CDC_LAKE_SOURCE__FORMAT', saved.format]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await cleanup(n);
  }
});
