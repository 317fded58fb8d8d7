/**
 * Consumer lag against the real broker: KafkaSource.offsets() reads high watermarks, the
 * daemon turns them into `cdc_lake_consumer_lag{topic,partition}` and /status lag.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Admin, Producer } from '@platformatic/kafka';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { Daemon } from '../../../src/pipeline/daemon.js';
import { KafkaSource } from '../../../src/source/kafka.js';
import { splitId } from '../../../src/source/record.js';
import { stackEnv } from '../../support/stack-env.js';
import { tempDir } from '../../support/temp.js';

const brokers = stackEnv().kafkaBootstrap.split(',');
const run = `lag${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
let admin: Admin;
let producer: Producer<Buffer, Buffer, Buffer, Buffer>;
before(() => {
  admin = new Admin({ clientId: 'test', bootstrapBrokers: brokers });
  producer = new Producer({ clientId: 'test', bootstrapBrokers: brokers, autocreateTopics: false });
});
after(() => Promise.all([producer.close(), admin.close()]));

/** `n` records to one partition; right after createTopics the leader may not be elected yet, so it retries. */
async function produce(topic: string, partition: number, n: number): Promise<void> {
  const messages = Array.from({ length: n }, (_, i) => ({ topic, partition, key: Buffer.from(`{"id":${i}}`), value: Buffer.from(`{"v":${i}}`) }));
  for (let attempt = 0; ; attempt++) {
    try {
      return void (await producer.send({ messages }));
    } catch (e) {
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

test('offsets(): high watermark and fetch position per assigned split', async () => {
  const topic = `${run}.a`;
  await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
  await produce(topic, 0, 7);
  await produce(topic, 1, 3);
  const src = new KafkaSource({ brokers, groupId: `${run}-g1`, topics: [topic], maxWaitMs: 100 });
  await src.open({ onAssigned: async () => new Map([[splitId(topic, 0), 5n]]), onRevoked: async () => {} });
  try {
    const o = await src.offsets();
    assert.equal(o.get(splitId(topic, 0))?.end, 7n);
    assert.equal(o.get(splitId(topic, 1))?.end, 3n);
    assert.ok((o.get(splitId(topic, 0))?.position ?? 0n) >= 5n, 'position starts where the owner said');
    await produce(topic, 1, 2);
    assert.equal((await src.offsets()).get(splitId(topic, 1))?.end, 5n, 'the watermark moves with new records');
  } finally {
    await src.close();
  }
  assert.equal((await src.offsets()).size, 0, 'a closed source reports nothing (and does not throw)');
});

test('the daemon reports consumer_lag per topic-partition in /metrics and per table in /status', async () => {
  const topic = `${run}.b`;
  await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  await produce(topic, 0, 4);
  const dir = await tempDir('cdc-lake-lag-');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, kafka: { brokers, groupId: `${run}-g2`, topics: [topic] }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  // A source that never delivers (not consumed): the lag is the whole partition.
  const source = new KafkaSource({ brokers, groupId: `${run}-g2`, topics: [topic], maxWaitMs: 100, queueBatches: 0 });
  const daemon = new Daemon({ config, logger, source: () => source });
  await source.open(daemon.pipeline.hooks());
  try {
    const lag = await daemon.updateLag();
    assert.equal(lag.partitions.get(splitId(topic, 0)), 4n);
    const text = await daemon.metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith('cdc_lake_consumer_lag{') && l.includes(`topic="${topic}"`));
    assert.ok(line, `consumer_lag for ${topic} is reported`);
    assert.equal(Number(line.slice(line.lastIndexOf(' ') + 1)), 4);
  } finally {
    await source.close();
  }
});
