/**
 * SASL and TLS against a real broker: a dedicated KRaft broker (the stack's Kafka jars) with
 * a SASL_SSL listener — a self-signed certificate made with keytool and one user for PLAIN,
 * SCRAM-SHA-256 and SCRAM-SHA-512. Test data goes in through its plaintext listener; what is
 * under test only ever gets the SASL_SSL address.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { Admin, Producer } from '@platformatic/kafka';
import { stringify } from 'yaml';
import { loadConfig, parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { Daemon } from '../../../src/pipeline/daemon.js';
import { kafkaConnection, type KafkaSaslOptions } from '../../../src/source/kafka-connection.js';
import { KafkaSource } from '../../../src/source/kafka.js';
import { parseLineSlow } from '../../../src/source/line.js';
import { SourceError } from '../../../src/source/source.js';
import { HudiTable } from '../../../src/table/table.js';
import { KafkaBroker } from '../../support/kafka-broker.js';
import { tempDir } from '../../support/temp.js';

const scenario = resolve(import.meta.dirname, '../../../../shared/fixtures/debezium/scenario-two-tables.jsonl');
const ORDERS = 'shop.public.orders';
const CUSTOMERS = 'shop.public.customers';
const DEAD = 'shop.dead-letters';
/** The scenario's 39 records and one that is not a Debezium envelope. */
const RECORDS = 40;

let broker: KafkaBroker;
before(async () => {
  broker = await KafkaBroker.create({ secure: true });
  const admin = new Admin({ clientId: 'test', bootstrapBrokers: [broker.bootstrap] });
  const producer = new Producer({ clientId: 'test', bootstrapBrokers: [broker.bootstrap], autocreateTopics: false });
  try {
    await admin.createTopics({ topics: [ORDERS], partitions: 2, replicas: 1 });
    await admin.createTopics({ topics: [CUSTOMERS, DEAD], partitions: 1, replicas: 1 });
    const lines = (await readFile(scenario, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const messages = lines.map((l) => {
      const r = parseLineSlow(l);
      // (tombstones keep their null value)
      return { topic: r.topic, partition: r.partition, ...(r.key ? { key: Buffer.from(r.key) } : {}), ...(r.value ? { value: Buffer.from(r.value) } : {}) };
    });
    messages.push({ topic: ORDERS, partition: 0, key: Buffer.from('{"order_id":1}'), value: Buffer.from('{"nope":1}') });
    assert.equal(messages.length, RECORDS);
    for (let attempt = 0; ; attempt++) {
      try {
        await producer.send({ messages });
        break;
      } catch (e) {
        if (attempt >= 20) throw e; // leaders of new topics may not be elected yet
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await producer.close();
    await admin.close();
  }
}, { timeout: 180_000 });
after(() => broker?.destroy());

/** The `kafka` section as a user writes it for this broker. */
function kafkaSection(sasl: KafkaSaslOptions, tls: Record<string, unknown> = { ca: broker.secure?.caFile }) {
  return { brokers: [broker.secureBootstrap], groupId: `g-${sasl.mechanism}-${Date.now()}`, topics: [ORDERS], sasl, tls };
}

function user(mechanism: KafkaSaslOptions['mechanism'], password = broker.secure?.user.password ?? ''): KafkaSaslOptions {
  return { mechanism, username: broker.secure?.user.name ?? '', password };
}

function sourceOf(kafka: ReturnType<typeof kafkaSection>): KafkaSource {
  const k = parseConfig({ lake: { uri: '/unused' }, kafka }, {}).kafka;
  assert.ok(k);
  return new KafkaSource({ ...kafkaConnection(k), groupId: k.groupId, topics: k.topics, maxWaitMs: 100 });
}

test('KafkaSource reads over TLS (CA from a file) with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512', { timeout: 120_000 }, async () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    const src = sourceOf(kafkaSection(user(mechanism)));
    await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
    try {
      let n = 0;
      for await (const b of src.batches()) {
        n += b.records.length;
        if (n >= 23) break; // the orders topic: 22 scenario records and the bad one
      }
      assert.equal(n, 23, mechanism);
      assert.deepEqual(src.assignment(), [`${ORDERS}:0`, `${ORDERS}:1`]);
    } finally {
      await src.close();
    }
  }
});

test('a wrong password or an untrusted certificate fails start-up with what to fix, without the join retry loop', { timeout: 120_000 }, async () => {
  const cases = [
    { kafka: kafkaSection(user('scram-sha-512', 'wrong')), fix: /authentication with the brokers failed: check kafka\.sasl/ },
    { kafka: kafkaSection(user('plain', 'wrong')), fix: /authentication with the brokers failed: check kafka\.sasl/ },
    // no `ca`: the system CAs do not know the broker's self-signed certificate
    { kafka: kafkaSection(user('scram-sha-512'), { rejectUnauthorized: true }), fix: /TLS handshake with the brokers failed: check kafka\.tls/ },
  ];
  for (const c of cases) {
    const src = sourceOf(c.kafka);
    const started = Date.now();
    await assert.rejects(src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} }), (e: unknown) => e instanceof SourceError && c.fix.test(e.message));
    // (the client retries a refused login at once: ~2 s here, was ~7 s at its 1 s retry delay; the join loop would go on for good)
    assert.ok(Date.now() - started < 30_000, 'failed without the join retry loop');
  }
});

test('the daemon on a SASL_SSL cluster (SCRAM-SHA-512, password from the environment, CA file): tables land and the dead letter goes over the same connection', { timeout: 180_000 }, async () => {
  const dir = await tempDir('cdc-lake-secured-');
  const configFile = join(dir, 'config.yaml');
  await writeFile(configFile, stringify({
    lake: { uri: join(dir, 'lake') },
    kafka: { ...kafkaSection({ ...user('scram-sha-512'), password: '${KAFKA_PASSWORD}' }), topics: [ORDERS, CUSTOMERS] },
    deadLetters: { kafkaTopic: DEAD },
    buffer: { maxAgeMs: 500 },
    server: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
  }));
  const config = loadConfig(configFile, { KAFKA_PASSWORD: broker.secure?.user.password });
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const daemon = new Daemon({ config, logger });
  const running = daemon.start();
  const deadline = Date.now() + 120_000;
  while (daemon.pipeline.summary.records < RECORDS || daemon.pipeline.bufferState().some((b) => b.rows > 0)) {
    assert.ok(Date.now() < deadline, `not caught up: ${JSON.stringify(daemon.pipeline.summary)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  daemon.stop();
  const summary = await running;
  assert.equal(summary.records, RECORDS);
  assert.equal(summary.deadLetters, 1);
  for (const t of ['public/orders', 'public/customers']) assert.ok(await HudiTable.exists(daemon.store, t), `${t} was written`);
  const admin = new Admin({ clientId: 'test', bootstrapBrokers: [broker.bootstrap] });
  try {
    const [dead] = await admin.listOffsets({ topics: [{ name: DEAD, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
    assert.equal(dead?.partitions[0]?.offset, 1n, 'one dead letter was produced over SASL_SSL');
  } finally {
    await admin.close();
  }
});
