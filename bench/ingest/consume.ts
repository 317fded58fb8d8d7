/**
 * Raw consume rate of one topic, no processing: KafkaSource (our fetch loop on
 * @platformatic/kafka), the @platformatic/kafka MessagesStream alone, and kafkajs
 * (eachBatch) – same topic, same run, so the ratios are comparable. Plus a ceiling:
 * KafkaSource with a bare `JSON.parse` of every value and nothing else, the least any
 * pipeline that reads each JSON record must do (its ratio to raw bounds issue #5 (b)).
 *
 *   KAFKA_BOOTSTRAP=127.0.0.1:9092 node --import tsx bench/ingest/consume.ts [--records 200000] [--partitions 16] [--topic name] [--rounds 2]
 *
 * Without --topic it creates `bench.consume.<records>.<partitions>` and fills it with
 * Debezium-like JSON values (~300 bytes) once; later runs reuse it.
 */
import { Admin, Consumer, Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { parseArgs } from 'node:util';
import { KafkaSource } from '../../src/source/kafka.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '16' },
    topic: { type: 'string' },
    rounds: { type: 'string', default: '2' },
  },
});
const bootstrap = process.env.KAFKA_BOOTSTRAP;
if (!bootstrap) throw new Error('KAFKA_BOOTSTRAP is not set: run npm run stack:up first');
const brokers = bootstrap.split(',');
const N = Number(args.records);
const P = Number(args.partitions);
const topic = args.topic ?? `bench.consume.${N}.${P}`;

function value(i: number): Buffer {
  const now = 1700000000000 + i;
  return Buffer.from(
    `{"before":null,"after":{"id":${i},"name":"customer ${i}","email":"c${i}@example.com","balance":"${(i % 10000) / 100}","active":true,"updated_at":"2024-01-01T00:00:00.000000Z"},` +
      `"source":{"version":"3.0.0","connector":"postgresql","name":"bench","ts_ms":${now},"db":"app","schema":"public","table":"customers","lsn":${i * 64},"sequence":"[null,\\"${i * 64}\\"]"},"op":"${i % 10 < 7 ? 'u' : 'c'}","ts_ms":${now}}`,
  );
}

async function ensureTopic(): Promise<void> {
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    await admin.createTopics({ topics: [topic], partitions: P, replicas: 1 });
  } finally {
    await admin.close();
  }
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, autocreateTopics: false });
  const t0 = Date.now();
  const chunk = 2000;
  for (let i = 0; i < N; i += chunk) {
    const messages = [];
    for (let j = i; j < Math.min(N, i + chunk); j++) messages.push({ topic, partition: j % P, key: Buffer.from(`{"id":${j}}`), value: value(j) });
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.send({ messages });
        break;
      } catch (e) {
        if (attempt > 20) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  await producer.close();
  console.error(`produced ${N} records to ${topic} in ${Date.now() - t0} ms`);
}

interface Result {
  client: string;
  records: number;
  bytes: number;
  /** From start (connect + group join) to the last record. */
  ms: number;
  perSec: number;
  /** From the first record to the last: the rate without the group join. */
  steadyPerSec: number;
}

let firstAt = 0;
function first(): void {
  if (firstAt === 0) firstAt = performance.now();
}

function result(client: string, records: number, bytes: number, ms: number, t0: number): Result {
  const steadyMs = t0 + ms - firstAt;
  const r = { client, records, bytes, ms: Math.round(ms), perSec: Math.round((records / ms) * 1000), steadyPerSec: Math.round((records / steadyMs) * 1000) };
  firstAt = 0;
  return r;
}

async function viaSource(round: number, parse = false): Promise<Result> {
  const src = new KafkaSource({ brokers, groupId: `bench-src-${Date.now()}-${round}${parse ? '-parse' : ''}`, topics: [topic], maxWaitMs: 100 });
  const t0 = performance.now();
  await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
  let n = 0;
  let bytes = 0;
  let parsed = 0;
  for await (const b of src.batches()) {
    first();
    n += b.records.length;
    for (const r of b.records) {
      bytes += r.value?.length ?? 0;
      if (parse && r.value !== null && JSON.parse(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).toString('utf8')) !== null) parsed++;
    }
    if (n >= N) break;
  }
  const ms = performance.now() - t0;
  await src.close();
  if (parse && parsed !== n) throw new Error(`parsed ${parsed} of ${n} values: the topic holds null values`);
  return result(parse ? 'cdc-lake KafkaSource + bare JSON.parse of each value' : 'cdc-lake KafkaSource (@platformatic/kafka fetch)', n, bytes, ms, t0);
}

const viaSourceParse = (round: number): Promise<Result> => viaSource(round, true);

async function viaPlatformaticStream(round: number): Promise<Result> {
  const consumer = new Consumer({ clientId: 'bench', bootstrapBrokers: brokers, groupId: `bench-plt-${Date.now()}-${round}`, autocommit: false, maxWaitTime: 100 });
  const t0 = performance.now();
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  let n = 0;
  let bytes = 0;
  for await (const m of stream) {
    first();
    n++;
    bytes += m.value?.length ?? 0;
    if (n >= N) break;
  }
  const ms = performance.now() - t0;
  await stream.close();
  await consumer.close(true);
  return result('@platformatic/kafka 1.x MessagesStream', n, bytes, ms, t0);
}

async function viaKafkajs(round: number): Promise<Result> {
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-kjs-${Date.now()}-${round}`, maxWaitTimeInMs: 100, maxBytes: 32 << 20, maxBytesPerPartition: 4 << 20 });
  const t0 = performance.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let n = 0;
  let bytes = 0;
  let ms = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch }) => {
          first();
          for (const m of batch.messages) bytes += m.value?.length ?? 0;
          n += batch.messages.length;
          if (n >= N && ms === 0) {
            ms = performance.now() - t0;
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return result('kafkajs 2.2.4 eachBatch', n, bytes, ms, t0);
}

await ensureTopic();
const rounds = Number(args.rounds);
const all: Result[] = [];
for (let r = 0; r < rounds; r++) {
  for (const f of [viaSource, viaSourceParse, viaPlatformaticStream, viaKafkajs]) {
    const res = await f(r);
    all.push(res);
    console.error(`round ${r + 1}: ${res.client}: ${res.records} records in ${res.ms} ms = ${res.perSec}/s (steady ${res.steadyPerSec}/s)`);
  }
}
const best = new Map<string, Result>();
for (const r of all) if (!best.has(r.client) || (best.get(r.client) as Result).perSec < r.perSec) best.set(r.client, r);
const rows = [...best.values()];
const kjs = rows.find((r) => r.client.startsWith('kafkajs'));
console.log(JSON.stringify({ topic, records: N, partitions: P, best: rows.map((r) => ({ ...r, vsKafkajs: kjs ? +(r.perSec / kjs.perSec).toFixed(2) : null, steadyVsKafkajs: kjs ? +(r.steadyPerSec / kjs.steadyPerSec).toFixed(2) : null })) }, null, 2));
