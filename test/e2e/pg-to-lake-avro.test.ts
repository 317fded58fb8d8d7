// End to end through Avro: PostgreSQL → Debezium with Apicurio's AvroConverter (Confluent
// wire format, schemas in the stack's registry) → Kafka → `cdc-lake run` (config
// `source: {format: avro, schemaRegistry: {url}}`) → moto S3 → `cdc-lake query snapshot`
// equals `SELECT *`, and hudi-rs reads the same rows. The workload is pg-to-lake's
// (test/e2e/scenario.ts runPgToLake); Avro values compare as JSON with schema.
import { test } from 'node:test';
import { runPgToLake } from './scenario.js';

test('PostgreSQL → Debezium Avro + schema registry → Kafka → daemon → S3: snapshot equals SELECT *, hudi-rs agrees', { timeout: 300_000 }, async () => {
  await runPgToLake('avro');
});
