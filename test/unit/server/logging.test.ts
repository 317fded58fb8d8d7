import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redact, redactUrlCredentials, REDACTED } from '../../../src/logging.js';

function capture(): { stream: Writable; lines: () => Array<Record<string, unknown>>; raw: () => string } {
  let buf = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      cb();
    },
  });
  return { stream, raw: () => buf, lines: () => buf.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('URL userinfo, bearer/basic values, AWS key ids and PEM keys are redacted in text', () => {
  assert.equal(redactUrlCredentials('s3 at http://AKIAXX:secret@127.0.0.1:9000/b ok'), `s3 at http://${REDACTED}@127.0.0.1:9000/b ok`);
  assert.equal(redactUrlCredentials('registry https://user:p%40ss@reg:8081'), `registry https://${REDACTED}@reg:8081`);
  assert.equal(redactUrlCredentials('Authorization: Bearer abc.def.ghi'), `Authorization: Bearer ${REDACTED}`);
  assert.equal(redactUrlCredentials('Basic dXNlcjpwYXNz'), `Basic ${REDACTED}`);
  assert.equal(redactUrlCredentials('key AKIAIOSFODNN7EXAMPLE used'), `key ${REDACTED} used`);
  assert.equal(redactUrlCredentials('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----'), REDACTED);
  assert.equal(redactUrlCredentials('http://host:8080/path'), 'http://host:8080/path');
});

test('secret fields are redacted at any depth; other fields survive', () => {
  const cfg = {
    kafka: { brokers: ['k:9092'], sasl: { mechanism: 'plain', username: 'u', password: 'hunter2' } },
    source: { schemaRegistry: { url: 'http://u:pw@reg', basicAuth: { username: 'u', password: 'p' }, bearerToken: 'tok' } },
    lake: { s3: { credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } } },
    env: { AWS_SECRET_ACCESS_KEY: 'x', AWS_ACCESS_KEY_ID: 'y', KAFKA_PASSWORD: 'z' },
    headers: { Authorization: 'Basic abc' },
  };
  const r = redact(cfg) as typeof cfg;
  assert.equal(r.kafka.sasl.password, REDACTED);
  assert.equal(r.kafka.sasl.username, 'u');
  assert.deepEqual(r.kafka.brokers, ['k:9092']);
  assert.equal(r.source.schemaRegistry.url, `http://${REDACTED}@reg`);
  assert.equal(r.source.schemaRegistry.basicAuth as unknown, REDACTED);
  assert.equal(r.source.schemaRegistry.bearerToken, REDACTED);
  assert.equal(r.lake.s3.credentials as unknown, REDACTED);
  assert.deepEqual(r.env, { AWS_SECRET_ACCESS_KEY: REDACTED, AWS_ACCESS_KEY_ID: REDACTED, KAFKA_PASSWORD: REDACTED });
  assert.equal(r.headers.Authorization, REDACTED);
  assert.equal(cfg.kafka.sasl.password, 'hunter2', 'input is not mutated');
});

test('logger output never contains the secrets', async () => {
  const c = capture();
  const log = createLogger({ destination: c.stream, level: 'debug' });
  log.info({ config: { kafka: { sasl: { password: 'hunter2' } } }, endpoint: 'http://me:hunter3@s3:9000' }, 'starting with https://a:hunter4@reg');
  log.error({ err: Object.assign(new Error('connect http://x:hunter5@h failed'), { password: 'hunter6' }) }, 'boom');
  log.child({ table: 'public.orders' }).debug('flush');
  await new Promise((r) => setImmediate(r));
  const raw = c.raw();
  for (const s of ['hunter2', 'hunter3', 'hunter4', 'hunter5', 'hunter6']) assert.ok(!raw.includes(s), `${s} leaked: ${raw}`);
  const lines = c.lines();
  assert.equal(lines.length, 3);
  assert.equal(lines[0]?.['level'], 'info');
  assert.equal(lines[0]?.['msg'], `starting with https://${REDACTED}@reg`);
  assert.equal((lines[1]?.['err'] as Record<string, unknown>)['message'], `connect http://${REDACTED}@h failed`);
  assert.equal(lines[2]?.['table'], 'public.orders');
  assert.equal(typeof lines[0]?.['time'], 'string');
});
