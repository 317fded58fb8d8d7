import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { createDecodeContext, decodeRecord, decodeRecordAsync, InvalidRecord } from '../../../src/debezium/index.js';
import type { DecodeContextOptions, KafkaRecordIn, SchemaSource } from '../../../src/debezium/index.js';
import { SchemaRegistryError } from '../../../src/debezium/schema-registry.js';
import { loadJson, loadRecords } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const corpusPath = join(here, '..', '..', 'fixtures', 'malformed', 'corpus.jsonl');

interface Entry {
  name: string;
  reason: string;
  topic: string;
  key: string | null;
  value: string | null;
  keyHex?: string;
  valueHex?: string;
  options?: DecodeContextOptions;
}

const avroFx = loadJson<{ registry_response: Record<string, { id: number; schema: string }> }>('pg-many-types.avro-schemas.json');

/** A fake registry holding the fixture's two schemas under 4-byte ids (unit-test fake; the HTTP client is tested in avro.test.ts). */
const fakeRegistry: SchemaSource = {
  schemaById(id, idBytes = 4) {
    const e = idBytes === 4 ? Object.values(avroFx.registry_response).find((x) => x.id === id) : undefined;
    return e ? Promise.resolve(e.schema) : Promise.reject(new SchemaRegistryError(id, `fake://schemas/ids/${id}`, 404, 'HTTP 404 Schema not found'));
  },
};

function toRecord(e: Entry, i: number): KafkaRecordIn {
  const b = (text: string | null, hex?: string): Uint8Array | null => (hex !== undefined ? Buffer.from(hex, 'hex') : text === null ? null : Buffer.from(text));
  return { topic: e.topic, partition: 3, offset: BigInt(1000 + i), key: b(e.key, e.keyHex), value: b(e.value, e.valueHex) };
}

const corpus: Entry[] = readFileSync(corpusPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Entry);

describe('malformed corpus', () => {
  it('has at least 30 records covering many reasons', () => {
    assert.ok(corpus.length >= 30);
    assert.ok(new Set(corpus.map((e) => e.reason)).size >= 20);
  });
  corpus.forEach((e, i) => {
    it(`${e.name} → ${e.reason}`, async () => {
      const ctx = createDecodeContext({ ...e.options, registry: fakeRegistry });
      const rec = toRecord(e, i);
      const d = await decodeRecordAsync(rec, ctx);
      assert.equal(d.kind, 'invalid', `decoded as ${d.kind}`);
      if (d.kind !== 'invalid') return;
      assert.ok(d.error instanceof InvalidRecord);
      assert.equal(d.error.reason, e.reason, d.error.message);
      assert.equal(d.error.topic, e.topic);
      assert.equal(d.error.partition, 3);
      assert.equal(d.error.offset, rec.offset);
      assert.ok(!d.error.message.includes('\n'), 'one-line message');
      assert.ok(d.error.message.startsWith(`${e.topic}[3]@${rec.offset}: ${e.reason}: `));
    });
  });
});

const ALLOWED = new Set(['change', 'tombstone', 'truncate', 'heartbeat', 'transaction', 'schema-change', 'message', 'invalid']);

describe('random byte mutations never throw', () => {
  const avroFxWire = loadJson<{ value_wire_example: { base64: string }; key_wire_example: { hex: string }; topic: string }>('pg-many-types.avro-schemas.json');
  const seeds: KafkaRecordIn[] = [
    ...loadRecords('pg-many-types.json'),
    ...loadRecords('pg-create.json'),
    ...loadRecords('pg-schemaless-crud.jsonl').slice(0, 1),
    ...loadRecords('pg-flattened-rewrite.jsonl').slice(0, 1),
    ...loadRecords('mysql-crud-with-schema.jsonl').slice(0, 1),
    ...loadRecords('pg-transaction-metadata.jsonl').slice(0, 1),
    { topic: avroFxWire.topic, partition: 0, offset: 0n, key: Buffer.from(avroFxWire.key_wire_example.hex, 'hex'), value: Buffer.from(avroFxWire.value_wire_example.base64, 'base64') },
  ];
  const mutation = fc.record({
    seed: fc.nat({ max: seeds.length - 1 }),
    target: fc.constantFrom('key', 'value'),
    edits: fc.array(fc.tuple(fc.constantFrom('set', 'insert', 'delete', 'truncate'), fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
  });
  function mutate(b: Uint8Array | null, edits: [string, number, number][]): Uint8Array | null {
    if (b === null) return null;
    let a = Array.from(b);
    for (const [kind, at, byte] of edits) {
      const i = a.length === 0 ? 0 : at % a.length;
      if (kind === 'set' && a.length) a[i] = byte;
      else if (kind === 'insert') a.splice(i, 0, byte);
      else if (kind === 'delete') a.splice(i, 1);
      else a = a.slice(0, i);
    }
    return Buffer.from(a);
  }
  it('yields only InvalidRecord or a valid decoded kind (sync and async paths)', async () => {
    const ctx = createDecodeContext({ registry: fakeRegistry });
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const base = seeds[m.seed] as KafkaRecordIn;
        const rec = { ...base, [m.target]: mutate(base[m.target as 'key' | 'value'], m.edits as [string, number, number][]) };
        const d = await decodeRecordAsync(rec, ctx);
        assert.ok(ALLOWED.has(d.kind));
        if (d.kind === 'invalid') {
          assert.ok(d.error instanceof InvalidRecord);
          // The catch-all means an input shape slipped past the checks: a decoder bug.
          assert.ok(!d.error.message.includes('decoder error'), d.error.message);
        }
        if (d.kind === 'change') assert.ok(typeof d.event.table === 'string' && typeof d.event.position.ordering === 'bigint');
        const s = decodeRecord(rec, createDecodeContext());
        assert.ok(ALLOWED.has(s.kind));
      }),
      { numRuns: 2000 },
    );
  });
});
