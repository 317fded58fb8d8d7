/**
 * Decode throughput: records per CPU-second of decodeRecord for with-schema JSON, schemaless
 * JSON and Avro (Confluent wire format), each next to the bare parse of the same bytes in the
 * same run (JSON.parse of key and value text; avsc decode of key and value bodies).
 * Run: node --import tsx bench/decode/run.ts [records=2000] [rounds=5] [forms=json,schemaless,avro]
 * (e.g. `... 2000 5 avro` to profile the Avro case alone with --cpu-prof).
 */
import os from 'node:os';
import type { KafkaRecordIn } from '../../src/debezium/index.js';
import { createDecodeContext, decodeRecord, resolveAvroSchemas } from '../../src/debezium/index.js';
import { avroFramed, fixtureRegistry, keyType as keyT, many, payloads, valueType as valT } from './fixture.js';

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const FORMS = new Set((process.argv[4] ?? 'json,schemaless,avro').split(','));

/** CPU seconds of this process (user + system) for `count` calls: on a loaded machine, waiting for a core does not count. */
function time(fn: (i: number) => unknown, count: number): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < count; i++) fn(i);
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Median records/s of `ours` and `bare` over ROUNDS rounds (3 passes over the records each),
 * alternating the two per round so machine load affects both alike.
 */
function rates(ours: (i: number) => unknown, bare: (i: number) => unknown): { ours: number; bare: number } {
  time((i) => ours(i % N), N * 3); // warm-up
  time((i) => bare(i % N), N * 3);
  const o: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    o.push((N * 3) / time((i) => ours(i % N), N * 3));
    b.push((N * 3) / time((i) => bare(i % N), N * 3));
  }
  return { ours: median(o), bare: median(b) };
}

function rec(key: Uint8Array, value: Uint8Array, i: number): KafkaRecordIn {
  return { topic: many.topic, partition: 0, offset: BigInt(i), key, value };
}

let sink = 0;
function check(kind: string): void {
  if (kind !== 'change') throw new Error(`bench record decoded as ${kind}`);
  sink++;
}

const ps = payloads(N);
const results: { form: string; ours: number; bare: number }[] = [];

if (FORMS.has('json')) {
  const keySchema = JSON.stringify(many.key.schema);
  const valueSchema = JSON.stringify(many.value.schema);
  const recs = ps.map((p, i) => rec(Buffer.from(`{"schema":${keySchema},"payload":${JSON.stringify(p.key)}}`), Buffer.from(`{"schema":${valueSchema},"payload":${JSON.stringify(p.value)}}`), i));
  const ctx = createDecodeContext();
  const r2 = rates((i) => check(decodeRecord(recs[i] as KafkaRecordIn, ctx).kind), (i) => {
    const r = recs[i] as KafkaRecordIn;
    JSON.parse(Buffer.from(r.key as Uint8Array).toString());
    sink += (JSON.parse(Buffer.from(r.value as Uint8Array).toString()) as object) ? 1 : 0;
  });
  results.push({ form: 'JSON with schema', ...r2 });
}
if (FORMS.has('schemaless')) {
  const recs = ps.map((p, i) => rec(Buffer.from(JSON.stringify(p.key)), Buffer.from(JSON.stringify(p.value)), i));
  const ctx = createDecodeContext();
  const r2 = rates((i) => check(decodeRecord(recs[i] as KafkaRecordIn, ctx).kind), (i) => {
    const r = recs[i] as KafkaRecordIn;
    JSON.parse(Buffer.from(r.key as Uint8Array).toString());
    sink += (JSON.parse(Buffer.from(r.value as Uint8Array).toString()) as object) ? 1 : 0;
  });
  results.push({ form: 'JSON schemaless', ...r2 });
}
if (FORMS.has('avro')) {
  const recs = ps.map((p, i) => {
    const f = avroFramed(p);
    return rec(f.key, f.value, i);
  });
  const ctx = createDecodeContext({ registry: fixtureRegistry });
  await resolveAvroSchemas(recs[0] as KafkaRecordIn, ctx);
  const r2 = rates((i) => check(decodeRecord(recs[i] as KafkaRecordIn, ctx).kind), (i) => {
    const r = recs[i] as KafkaRecordIn;
    keyT.decode(r.key as Buffer, 5);
    sink += valT.decode(r.value as Buffer, 5).offset > 0 ? 1 : 0;
  });
  results.push({ form: 'Avro (Confluent wire)', ...r2 });
}

console.log(`decode benchmark: ${N} distinct records, median of ${ROUNDS} rounds, records per CPU-second, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('form                    | decodeRecord rec/s | bare parse rec/s | ratio');
for (const r of results) {
  console.log(`${r.form.padEnd(23)} | ${Math.round(r.ours).toString().padStart(18)} | ${Math.round(r.bare).toString().padStart(16)} | ${(r.ours / r.bare).toFixed(2)}`);
}
if (sink < 0) console.log(sink);
