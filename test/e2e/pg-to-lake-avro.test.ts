// End to end through Avro: PostgreSQL → Debezium with Apicurio's AvroConverter (schemas in
// the stack's registry) → Kafka → `cdc-lake run` (config `source: {format: avro,
// schemaRegistry: {url}}`) → moto S3 → `cdc-lake query snapshot` equals `SELECT *`, and
// hudi-rs reads the same rows; once in Confluent's wire format (4-byte content ids, the
// registry's ccompat address), once in the converter's own (8-byte global ids, Apicurio's
// address). The workload is pg-to-lake's (test/e2e/scenario.ts runPgToLake); Avro values
// compare as JSON with schema.
import { test } from 'node:test';
import { runPgToLake } from './scenario.js';

test('PostgreSQL → Debezium Avro + schema registry → Kafka → daemon → S3: snapshot equals SELECT *, hudi-rs agrees', { timeout: 300_000 }, async () => {
  await runPgToLake('avro');
});

test("PostgreSQL → Debezium Avro in Apicurio's own framing → Kafka → daemon → S3: snapshot equals SELECT *, hudi-rs agrees", { timeout: 300_000 }, async () => {
  await runPgToLake('avro-apicurio');
});
