// Joining the group at start-up: which client errors are worth waiting out, and that
// the source waits (and stops) for real against a loopback port where no broker listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, MultipleErrors, NetworkError, ResponseError, TimeoutError, UserError } from '@platformatic/kafka';
import { freePort } from '../../support/kafka-broker.js';
import { KafkaSource, kafkaErrorText, permanentKafkaProblem, retryDelayMs, type JoinFailure } from '../../../src/source/kafka.js';

/** The shape the client throws when no broker answers: one aggregate per retry, each over one NetworkError. */
function refused(port: number): MultipleErrors {
  const once = () => {
    const sys = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });
    return new MultipleErrors('Cannot connect to any broker.', [new NetworkError(`Connection to 127.0.0.1:${port} failed.`, { cause: sys })]);
  };
  return new MultipleErrors('findGroupCoordinator failed 3 times.', [once(), once(), once()]);
}

test('a broker that is down or slow is worth waiting for', () => {
  assert.equal(permanentKafkaProblem(refused(9092)), undefined);
  assert.equal(permanentKafkaProblem(new TimeoutError('Request timed out.')), undefined);
  // COORDINATOR_NOT_AVAILABLE (15) while the broker starts up
  assert.equal(permanentKafkaProblem(new ResponseError(10, 4, { '/': [15, null] }, {})), undefined);
});

test('configuration errors fail fast, each with what to fix', () => {
  // what the client reports for SASL against a broker that refuses it: the AuthenticationError sits under a retriable NetworkError
  const sasl = new MultipleErrors('Cannot connect to any broker.', [
    new NetworkError('Connection to 127.0.0.1:9092 failed.', { cause: new AuthenticationError('SASL authentication failed.', { cause: new ResponseError(36, 2, { '/': [58, 'bad password'] }, {}) }) }),
  ]);
  assert.match(permanentKafkaProblem(sasl) ?? '', /kafka\.sasl/);
  assert.match(permanentKafkaProblem(new UserError('Unknown topic orders.')) ?? '', /create the topic/);
  assert.match(permanentKafkaProblem(new ResponseError(11, 9, { '/': [30, null] }, {})) ?? '', /kafka\.groupId/); // GROUP_AUTHORIZATION_FAILED
  assert.match(permanentKafkaProblem(new ResponseError(3, 12, { '/topics/0': [29, null] }, {})) ?? '', /Describe and Read/); // TOPIC_AUTHORIZATION_FAILED
  const tls = new NetworkError('Connection to b:9093 failed.', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
  assert.match(permanentKafkaProblem(tls) ?? '', /kafka\.tls/);
});

test('the client retries a refused login or certificate at once and waits a second before other retries', () => {
  const client = {};
  const login = new NetworkError('Connection to 127.0.0.1:9093 failed.', { cause: new AuthenticationError('SASL authentication failed.') });
  const certificate = new NetworkError('Connection to b:9093 failed.', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
  assert.equal(retryDelayMs(client, 'findGroupCoordinator', 1, 5, login), 0);
  assert.equal(retryDelayMs(client, 'findGroupCoordinator', 1, 5, certificate), 0);
  assert.equal(retryDelayMs(client, 'findGroupCoordinator', 1, 5, refused(9092)), 1000);
  assert.equal(retryDelayMs(client, 'fetch', 2, 5, new TimeoutError('Request timed out.')), 1000);
});

test('the error text names the operation and the distinct underlying failure once', () => {
  assert.equal(kafkaErrorText(refused(19092)), 'findGroupCoordinator failed 3 times: Connection to 127.0.0.1:19092 failed (connect ECONNREFUSED 127.0.0.1:19092)');
  assert.equal(kafkaErrorText(new Error('plain')), 'plain');
});

test('open() keeps retrying while no broker answers, says why, and ends quietly on close()', { timeout: 60_000 }, async () => {
  const port = await freePort(); // nobody listens there
  const failures: JoinFailure[] = [];
  let reported: () => void = () => {};
  const reportedOnce = new Promise<void>((ok) => (reported = ok));
  const source = new KafkaSource({
    brokers: [`127.0.0.1:${port}`],
    groupId: 'join-wait',
    topics: ['t'],
    onJoinFailed: (f) => {
      failures.push(f);
      reported();
    },
  });
  let settled: 'open' | 'failed' | undefined;
  const opening = source.open({ onAssigned: async () => new Map(), onRevoked: async () => {} }).then(
    () => (settled = 'open'),
    (e: unknown) => {
      settled = 'failed';
      throw e;
    },
  );
  await reportedOnce;
  assert.equal(settled, undefined, 'open() still waits after a failed attempt');
  assert.equal(failures[0]?.attempt, 1);
  assert.match(failures[0]?.reason ?? '', new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  assert.ok((failures[0]?.retryInMs ?? 0) >= 50 && (failures[0]?.retryInMs ?? 0) <= 100, `first wait ${failures[0]?.retryInMs}`);
  assert.match(source.connectionProblem() ?? '', /cannot join group join-wait yet \(attempt \d+, retrying\): .*ECONNREFUSED/);
  const t0 = Date.now();
  await source.close();
  await opening;
  assert.equal(settled, 'open', 'a stop while waiting is no failure');
  assert.ok(Date.now() - t0 < 5000, `close() during the wait took ${Date.now() - t0} ms`);
  const batches: unknown[] = [];
  for await (const b of source.batches()) batches.push(b);
  assert.deepEqual(batches, [], 'a source closed before it joined delivers nothing');
});
