/**
 * KafkaSource against a real broker (KAFKA_BOOTSTRAP, e.g. from `npm run stack:up`).
 * Topics are unique per run so reruns never see old data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Producer } from '@platformatic/kafka';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaSource } from '../../../src/source/kafka.js';
import { KafkaBroker } from '../../support/kafka-broker.js';
import { parseEnvFile, repoRoot } from '../../support/stack-env.js';
import type { RecordBatch, SplitId } from '../../../src/source/record.js';

// process.env wins (point it at any broker); otherwise the stack's .stack/env
function kafkaBootstrap(): string {
  if (process.env.KAFKA_BOOTSTRAP) return process.env.KAFKA_BOOTSTRAP;
  const envFile = join(repoRoot(), '.stack', 'env');
  const fromStack = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8')).KAFKA_BOOTSTRAP : undefined;
  if (!fromStack) throw new Error('KAFKA_BOOTSTRAP is not set and .stack/env has none: run npm run stack:up (or set KAFKA_BOOTSTRAP=host:port)');
  return fromStack;
}
const bootstrap = kafkaBootstrap();
const brokers = bootstrap.split(',');
const run = `src${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
let admin: Admin;
let producer: Producer<Buffer, Buffer, Buffer, Buffer>;

before(async () => {
  admin = new Admin({ clientId: 'test', bootstrapBrokers: brokers });
  producer = new Producer({ clientId: 'test', bootstrapBrokers: brokers, autocreateTopics: false });
});
after(async () => {
  await producer.close();
  await admin.close();
});

async function produce(topic: string, partition: number, n: number, from = 0): Promise<void> {
  const messages = Array.from({ length: n }, (_, i) => ({
    topic,
    partition,
    key: Buffer.from(`{"id":${from + i}}`),
    value: Buffer.from(`{"op":"c","v":${from + i}}`),
    headers: new Map([[Buffer.from('h'), Buffer.from('x')]]),
  }));
  await send(messages);
}

/** Right after createTopics the partition leaders may not be elected yet: retry briefly. */
async function send(messages: Parameters<typeof producer.send>[0]['messages']): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.send({ messages });
      return;
    } catch (e) {
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function collect(src: KafkaSource, until: (all: RecordBatch[]) => boolean, timeoutMs = 20_000): Promise<RecordBatch[]> {
  const got: RecordBatch[] = [];
  const it = src.batches()[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (!until(got)) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out; got ${got.flatMap((b) => b.records).length} records`);
    const r = await Promise.race([it.next(), new Promise<'t'>((res) => setTimeout(() => res('t'), left))]);
    if (r === 't') continue;
    if (r.done) break;
    got.push(r.value);
  }
  return got;
}

const offsetsOf = (bs: RecordBatch[], split: SplitId): bigint[] => bs.filter((b) => b.split === split).flatMap((b) => b.records.map((r) => r.offset));

test('seeks to owner positions (earliest when none), one split per batch in order, tombstones as null, commits only when told', async () => {
  const topic = `${run}.a`;
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
  for (const p of [0, 1, 2]) await produce(topic, p, 10);
  await send([{ topic, partition: 2, key: Buffer.from('{"id":1}') }]);
  const groupId = `${run}-g1`;
  const assigned: SplitId[] = [];
  const src = new KafkaSource({ brokers, groupId, topics: [topic], maxWaitMs: 100 });
  await src.open({
    onAssigned: async (s) => {
      assigned.push(...s);
      return new Map([[`${topic}:0`, 4n], [`${topic}:1`, 10n]]);
    },
    onRevoked: async () => {},
  });
  try {
    assert.deepEqual(assigned.sort(), [`${topic}:0`, `${topic}:1`, `${topic}:2`]);
    const bs = await collect(src, (all) => all.flatMap((b) => b.records).length >= 6 + 11);
    for (const b of bs) for (const r of b.records) assert.equal(`${r.topic}:${r.partition}`, b.split);
    assert.deepEqual(offsetsOf(bs, `${topic}:0`), [4n, 5n, 6n, 7n, 8n, 9n]);
    assert.deepEqual(offsetsOf(bs, `${topic}:1`), []);
    assert.deepEqual(offsetsOf(bs, `${topic}:2`), Array.from({ length: 11 }, (_, i) => BigInt(i)));
    const p2 = bs.filter((b) => b.split === `${topic}:2`).flatMap((b) => b.records);
    assert.equal(p2.at(-1)?.value, null, 'a tombstone has a null value');
    assert.equal(Buffer.from(p2[0]?.key ?? []).toString(), '{"id":0}');
    assert.equal(Buffer.from(p2[0]?.headers?.h ?? []).toString(), 'x');
    assert.ok(typeof p2[0]?.timestamp === 'number' && p2[0].timestamp > 1.6e12);

    const committed = async (): Promise<Map<number, bigint>> => {
      const [g] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const t = g?.topics.find((x) => x.name === topic);
      return new Map((t?.partitions ?? []).filter((p) => p.committedOffset >= 0n).map((p) => [p.partitionIndex, p.committedOffset]));
    };
    assert.equal((await committed()).size, 0, 'nothing committed until told');
    await src.commitOffsets(new Map([[`${topic}:2`, 11n]]));
    assert.deepEqual([...(await committed())], [[2, 11n]]);
  } finally {
    await src.close();
  }
});

test('pause holds one partition back while others flow; resume releases it', async () => {
  const topic = `${run}.b`;
  await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
  const src = new KafkaSource({ brokers, groupId: `${run}-g2`, topics: [topic], maxWaitMs: 100 });
  await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
  try {
    src.pause([`${topic}:0`]);
    await produce(topic, 0, 5);
    await produce(topic, 1, 5);
    const first = await collect(src, (all) => offsetsOf(all, `${topic}:1`).length >= 5);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(offsetsOf(first, `${topic}:0`), [], 'paused partition delivered nothing');
    src.resume([`${topic}:0`]);
    const rest = await collect(src, (all) => offsetsOf(all, `${topic}:0`).length >= 5);
    assert.deepEqual(offsetsOf(rest, `${topic}:0`), [0n, 1n, 2n, 3n, 4n]);
  } finally {
    await src.close();
  }
});

test('topic pattern picks up a topic created after start', async () => {
  const first = `${run}.rx.one`;
  await admin.createTopics({ topics: [first], partitions: 1, replicas: 1 });
  const src = new KafkaSource({ brokers, groupId: `${run}-g3`, topicPattern: `^${run.replace(/[.]/g, '\\.')}\\.rx\\.`, metadataRefreshMs: 500, maxWaitMs: 100 });
  const assigned: SplitId[] = [];
  await src.open({
    onAssigned: async (s) => {
      assigned.push(...s);
      return new Map();
    },
    onRevoked: async () => {},
  });
  try {
    assert.deepEqual(assigned, [`${first}:0`]);
    const second = `${run}.rx.two`;
    await admin.createTopics({ topics: [second], partitions: 1, replicas: 1 });
    await produce(second, 0, 3);
    const bs = await collect(src, (all) => offsetsOf(all, `${second}:0`).length >= 3, 30_000);
    assert.deepEqual(offsetsOf(bs, `${second}:0`), [0n, 1n, 2n]);
    assert.ok(assigned.includes(`${second}:0`));
  } finally {
    await src.close();
  }
});

test('a second member triggers a rebalance: whole topics move, the first gets onRevoked, no split owned by both', async () => {
  const topics = [`${run}.c1`, `${run}.c2`];
  await admin.createTopics({ topics, partitions: 2, replicas: 1 });
  const groupId = `${run}-g4`;
  const revokedA: SplitId[] = [];
  const a = new KafkaSource({ brokers, groupId, topics, maxWaitMs: 100, sessionTimeoutMs: 10_000 });
  await a.open({ onAssigned: async () => new Map(), onRevoked: async (s) => void revokedA.push(...s) });
  assert.equal(a.assignment().length, 4, 'a lone member owns everything');
  const b = new KafkaSource({ brokers, groupId, topics, maxWaitMs: 100, sessionTimeoutMs: 10_000 });
  const drain = collect(a, () => false, 15_000).catch(() => []);
  try {
    await b.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (revokedA.length === 0 || a.assignment().length + b.assignment().length !== 4)) await new Promise((r) => setTimeout(r, 200));
    assert.equal(revokedA.length, 2, 'the first member was told about the moved topic');
    assert.deepEqual(a.assignment().filter((s) => b.assignment().includes(s)), []);
    const topicsOf = (ss: SplitId[]) => [...new Set(ss.map((s) => s.slice(0, s.lastIndexOf(':'))))];
    assert.equal(topicsOf(a.assignment()).length, 1, 'all partitions of a topic stay on one member');
    assert.equal(topicsOf(b.assignment()).length, 1);
    assert.equal(a.assignment().length + b.assignment().length, 4);
  } finally {
    await b.close();
    await a.close();
    await drain;
  }
});

test('stop() ends batches() but keeps the membership: group offsets still commit; close() then leaves the group', async () => {
  const topic = `${run}.s`;
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  await produce(topic, 0, 5);
  const groupId = `${run}-g5`;
  const src = new KafkaSource({ brokers, groupId, topics: [topic], maxWaitMs: 100 });
  await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
  const members = async (): Promise<number> => (await admin.describeGroups({ groups: [groupId] })).get(groupId)?.members.size ?? 0;
  try {
    const it = src.batches()[Symbol.asyncIterator]();
    let got = 0;
    while (got < 5) {
      const r = await it.next();
      assert.ok(!r.done, 'the topic has 5 records');
      got += r.value.records.length;
    }
    src.stop();
    assert.deepEqual(await it.next(), { done: true, value: undefined }, 'batches() ends at the stop');
    assert.equal(await members(), 1, 'a stopped member is still in the group');
    await src.commitOffsets(new Map([[`${topic}:0`, 5n]]));
    const [g] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    assert.equal(g?.topics.find((t) => t.name === topic)?.partitions[0]?.committedOffset, 5n, 'offsets commit after the stop');
  } finally {
    await src.close();
  }
  assert.equal(await members(), 0, 'close() left the group');
});

test('stopping with the brokers gone: the first group-offset commit tries and fails, the later ones fail at once', { timeout: 180_000 }, async () => {
  // A broker of its own: the stack's is shared.
  const broker = await KafkaBroker.create();
  try {
    const topic = `${run}.gone`;
    await broker.createTopic(topic, 2);
    const src = new KafkaSource({ brokers: [broker.bootstrap], groupId: `${run}-g6`, topics: [topic], maxWaitMs: 100 });
    await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
    await broker.kill();
    src.stop();
    await assert.rejects(src.commitOffsets(new Map([[`${topic}:0`, 1n]])), /committing group offsets failed/);
    // (a stop with many tables would otherwise spend the client's retries on each)
    await assert.rejects(src.commitOffsets(new Map([[`${topic}:1`, 1n]])), /did not answer an earlier commit during this stop/);
    await src.close().catch(() => undefined); // cannot leave a group whose broker is gone
  } finally {
    await broker.destroy();
  }
});
