// The stack's Kafka is a real broker: a produced record comes back to a consumer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Producer, stringSerializers } from "@platformatic/kafka";
import { readTopic } from "../../support/debezium.js";
import { assertReachable, stackEnv } from "../../support/stack-env.js";

test("a record produced to Kafka is consumed", async () => {
  const env = stackEnv();
  await assertReachable(env.kafkaBootstrap, "Kafka");
  const topic = `stack-smoke-${Date.now()}`;
  const value = JSON.stringify({ hello: "kafka", at: Date.now() });
  const producer = new Producer({ clientId: "stack-smoke", bootstrapBrokers: [env.kafkaBootstrap], serializers: stringSerializers, autocreateTopics: true });
  try {
    await producer.send({ messages: [{ topic, key: "k1", value }] });
  } finally {
    await producer.close();
  }
  const records = await readTopic(topic, { timeoutMs: 30_000 });
  assert.equal(records.length, 1);
  assert.equal(records[0]?.key, "k1");
  assert.equal(records[0]?.value, value);
  assert.equal(records[0]?.offset, 0n);
});
