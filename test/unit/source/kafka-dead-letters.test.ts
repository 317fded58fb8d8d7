// The Kafka dead-letter sink says whether a failed send was an outage (brokers unreachable:
// the daemon restarts its pipeline and sends again) — here against a closed port.
import { strict as assert } from 'node:assert';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { InvalidRecord } from '../../../src/debezium/index.js';
import { outageOf } from '../../../src/pipeline/daemon.js';
import { DeadLetterTopicError, KafkaDeadLetterSink } from '../../../src/source/kafka-dead-letters.js';

test('dead letters that cannot reach the brokers fail as an outage of the dead-letter topic, naming it', { timeout: 60_000 }, async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const sink = new KafkaDeadLetterSink('cdc.dead-letters', { brokers: [`127.0.0.1:${port}`] });
  const origin = { topic: 'shop.public.orders', partition: 0, offset: 7n };
  const letter = { error: new InvalidRecord(origin, 'malformed-json', 'not JSON'), record: { ...origin, key: null, value: Buffer.from('{') }, atMs: 0 };
  try {
    const e = await sink.send([letter]).then(() => assert.fail('sent to a closed port'), (err: unknown) => err);
    assert.ok(e instanceof DeadLetterTopicError, String(e));
    assert.equal(e.outage, true);
    assert.match(e.message, /dead letters to Kafka topic cdc\.dead-letters failed/);
    assert.equal(outageOf(e), 'dead-letter-topic');
    assert.equal(outageOf(new DeadLetterTopicError('t', false, new Error('SASL_AUTHENTICATION_FAILED'))), undefined, 'a refusal is no outage');
  } finally {
    await sink.close().catch(() => undefined);
  }
});
