import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../../src/config/index.js';
import { clientOptions, kafkaConnection } from '../../../src/source/kafka-connection.js';
import { tempDir } from '../../support/temp.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function kafkaConfig(kafka: Record<string, unknown>) {
  const k = parseConfig({ lake: { uri: '/tmp/lake' }, kafka: { brokers: ['b:9096'], topics: ['t'], ...kafka } }, {}).kafka;
  assert.ok(k);
  return k;
}

test('tls ca/cert/key: PEM text is kept, a path is read, the file is read once when the connection is made', async () => {
  const dir = await tempDir('cdc-lake-tls-');
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, PEM);
  const reads: string[] = [];
  const c = kafkaConnection(kafkaConfig({ tls: { ca: caFile, cert: PEM } }), 'cdc-lake', (p) => (reads.push(p), PEM));
  assert.deepEqual(c.tls, { rejectUnauthorized: true, ca: PEM, cert: PEM });
  assert.deepEqual(reads, [caFile]);
  assert.equal((kafkaConnection(kafkaConfig({ tls: { ca: caFile } })).tls as { ca: string }).ca, PEM, 'read from disk by default');
});

test('a tls file that is missing or holds no PEM is a config error naming the field', async () => {
  const dir = await tempDir('cdc-lake-tls-');
  const missing = join(dir, 'nope.pem');
  assert.throws(() => kafkaConnection(kafkaConfig({ tls: { ca: missing } })), (e: unknown) => e instanceof ConfigError && /^config error at kafka\.tls\.ca: cannot read .*nope\.pem: .*ENOENT/.test(e.message));
  const notPem = join(dir, 'key.der');
  await writeFile(notPem, 'binary');
  assert.throws(() => kafkaConnection(kafkaConfig({ tls: { key: notPem } })), (e: unknown) => e instanceof ConfigError && /^config error at kafka\.tls\.key: .*key\.der holds no PEM block/.test(e.message));
});

test('client options: SASL mechanism names as the protocol spells them, TLS true means system CAs, the connection may name its client', () => {
  const scram = kafkaConnection(kafkaConfig({ sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } }), 'cdc-lake-dead-letters');
  assert.deepEqual(clientOptions(scram, 'fallback'), { clientId: 'cdc-lake-dead-letters', bootstrapBrokers: ['b:9096'], sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' } });
  assert.equal(clientOptions({ brokers: ['b:1'], sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } }, 'x').sasl?.mechanism, 'SCRAM-SHA-256');
  assert.equal(clientOptions({ brokers: ['b:1'], sasl: { mechanism: 'plain', username: 'u', password: 'p' } }, 'x').sasl?.mechanism, 'PLAIN');
  assert.deepEqual(clientOptions({ brokers: ['b:1'], tls: true }, 'x'), { clientId: 'x', bootstrapBrokers: ['b:1'], tls: {} });
  assert.deepEqual(clientOptions({ brokers: ['b:1'], tls: false }, 'x'), { clientId: 'x', bootstrapBrokers: ['b:1'] });
});
