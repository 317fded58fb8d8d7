import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDecodeContext, decodeRecord, decodeRecordAsync, SchemaRegistryClient, SchemaRegistryError } from '../../../src/debezium/index.js';
import type { KafkaRecordIn } from '../../../src/debezium/index.js';
import { loadJson, loadRecords } from './fixtures.js';

interface AvroFixture {
  registry_response: { key: { id: number; schema: string }; value: { id: number; schema: string } };
  key_wire_example: { hex: string };
  value_wire_example: { base64: string };
  topic: string;
}

const fx = loadJson<AvroFixture>('pg-many-types.avro-schemas.json');

/** A fake Confluent registry on loopback: serves the two fixture schemas, 404 otherwise, counts hits. */
describe('Avro via a schema registry', () => {
  let url = '';
  let hits = 0;
  let failNext = 0;
  let lastAuth: string | undefined;
  const server = createServer((req, res) => {
    hits++;
    lastAuth = req.headers.authorization;
    if (failNext > 0) {
      failNext--;
      res.writeHead(503).end('busy');
      return;
    }
    const id = Number(/\/schemas\/ids\/(\d+)$/.exec(req.url ?? '')?.[1]);
    const entry = [fx.registry_response.key, fx.registry_response.value].find((e) => e.id === id);
    if (!entry) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error_code":40403,"message":"Schema not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: entry.schema }));
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const rec = (value: Uint8Array | null, key: Uint8Array | null = Buffer.from(fx.key_wire_example.hex, 'hex')): KafkaRecordIn => ({
    topic: fx.topic,
    partition: 0,
    offset: 5n,
    key,
    value,
  });

  it('decodes the wire-format example to the same event as the JSON fixture', async () => {
    const registry = new SchemaRegistryClient({ url, auth: { username: 'u', password: 'p' } });
    const ctx = createDecodeContext({ registry });
    const d = await decodeRecordAsync(rec(Buffer.from(fx.value_wire_example.base64, 'base64')), ctx);
    assert.equal(d.kind, 'change', d.kind === 'invalid' ? d.error.message : '');
    const json = decodeRecord(loadRecords('pg-many-types.json')[0]!, createDecodeContext());
    if (d.kind !== 'change' || json.kind !== 'change') return;
    assert.deepEqual(d.event.row, json.event.row);
    assert.deepEqual(d.event.key, { id: 42 });
    assert.deepEqual(d.event.keyFields, ['id']);
    assert.deepEqual(d.event.schema, json.event.schema);
    assert.equal(d.event.position.ordering, json.event.position.ordering);
    assert.equal(d.event.txId, '799');
    assert.equal(d.event.row!['big_counter'], 9007199254740993n);
    assert.equal(lastAuth, `Basic ${Buffer.from('u:p').toString('base64')}`);
  });

  it('caches schemas by id and retries 5xx with backoff', async () => {
    const registry = new SchemaRegistryClient({ url, auth: { bearerToken: 't0k' }, backoffMs: 5 });
    const ctx = createDecodeContext({ registry });
    failNext = 2;
    const before = hits;
    for (let i = 0; i < 5; i++) {
      const d = await decodeRecordAsync(rec(Buffer.from(fx.value_wire_example.base64, 'base64')), ctx);
      assert.equal(d.kind, 'change');
    }
    assert.equal(hits - before, 4, 'two failures + one fetch per schema id (key, value), then cached');
    assert.equal(lastAuth, 'Bearer t0k');
  });

  it('unknown schema id → invalid unknown-schema-id naming the id and URL; truncated body → truncated-avro', async () => {
    const ctx = createDecodeContext({ registry: new SchemaRegistryClient({ url }) });
    const bad = Buffer.from(fx.value_wire_example.base64, 'base64');
    bad.writeUInt32BE(99, 1);
    const d = await decodeRecordAsync(rec(bad), ctx);
    assert.equal(d.kind, 'invalid');
    if (d.kind === 'invalid') {
      assert.equal(d.error.reason, 'unknown-schema-id');
      assert.match(d.error.message, /schema id 99 at http:\/\/127\.0\.0\.1:\d+\/schemas\/ids\/99/);
      assert.equal(d.error.offset, 5n);
    }
    const full = Buffer.from(fx.value_wire_example.base64, 'base64');
    const t = await decodeRecordAsync(rec(full.subarray(0, full.length - 7)), ctx);
    assert.equal(t.kind, 'invalid');
    if (t.kind === 'invalid') assert.equal(t.error.reason, 'truncated-avro');
  });

  it('an unreachable registry rejects with SchemaRegistryError (an outage is not bad input)', async () => {
    const ctx = createDecodeContext({ registry: new SchemaRegistryClient({ url: 'http://127.0.0.1:1', retries: 1, backoffMs: 1 }) });
    await assert.rejects(decodeRecordAsync(rec(Buffer.from(fx.value_wire_example.base64, 'base64')), ctx), SchemaRegistryError);
  });

  it('sync decode of an unresolved Avro record is invalid, not a throw', () => {
    const d = decodeRecord(rec(Buffer.from(fx.value_wire_example.base64, 'base64')), createDecodeContext());
    assert.equal(d.kind, 'invalid');
    if (d.kind === 'invalid') assert.equal(d.error.reason, 'schema-not-resolved');
  });
});
