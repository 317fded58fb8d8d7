/**
 * The decode benchmarks' input: N distinct variants of the pg-many-types fixture record,
 * as payload objects and as Confluent-framed Avro key/value bytes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { exactLongType } from '../../src/debezium/avro.js';

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures', 'debezium');

export const many = JSON.parse(readFileSync(join(FIX, 'pg-many-types.json'), 'utf8')) as {
  topic: string;
  key: { schema: unknown; payload: { id: number } };
  value: { schema: unknown; payload: { after: Record<string, unknown>; source: Record<string, unknown> } & Record<string, unknown> };
};
export const avroFx = JSON.parse(readFileSync(join(FIX, 'pg-many-types.avro-schemas.json'), 'utf8')) as {
  registry_response: { key: { id: number; schema: string }; value: { id: number; schema: string } };
};

export interface BenchPayload {
  key: { id: number };
  value: Record<string, unknown>;
}

/**
 * N distinct payloads: ids, numbers, text and positions vary; big_counter stays below 2^53
 * (the common case). `fullUpdates`: updates with the old row in `before` (REPLICA IDENTITY
 * FULL) instead of the fixture's insert.
 */
export function payloads(n: number, fullUpdates = false): BenchPayload[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const v = structuredClone(many.value.payload);
    const a = v.after;
    a['id'] = 1000 + i;
    a['qty'] = i % 300;
    a['big_counter'] = 1_000_000_000_000 + i * 7919;
    a['score'] = i * 1.25;
    a['note'] = i % 3 === 0 ? null : `note ${i} ${'x'.repeat(i % 40)}`;
    a['tags'] = ['new', `t${i % 17}`];
    const lsn = 34392480 + i * 64;
    v.source['lsn'] = lsn;
    v.source['sequence'] = `["${lsn - 64}","${lsn}"]`;
    if (fullUpdates) {
      v['op'] = 'u';
      v['before'] = { ...a, qty: (i + 1) % 300 };
    }
    out.push({ key: { id: 1000 + i }, value: v });
  }
  return out;
}

/** avsc types of the fixture's registered schemas; bare avsc needs the exact long type too (ts_ns > 2^53). */
export const keyType = avro.Type.forSchema(JSON.parse(avroFx.registry_response.key.schema) as avro.Schema, { wrapUnions: false, registry: { long: exactLongType } });
export const valueType = avro.Type.forSchema(JSON.parse(avroFx.registry_response.value.schema) as avro.Schema, { wrapUnions: false, registry: { long: exactLongType } });

function frame(id: number, body: Buffer): Buffer {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(id, 1);
  return Buffer.concat([h, body]);
}

/** A payload as Confluent-framed Avro key and value (bytes columns decoded from their JSON base64). */
export function avroFramed(p: BenchPayload): { key: Buffer; value: Buffer } {
  const v = structuredClone(p.value) as Record<string, unknown> & { after: Record<string, unknown> };
  for (const a of [v.after, v['before'] as Record<string, unknown> | null]) {
    if (a === null) continue;
    a['price'] = Buffer.from(String(a['price']), 'base64');
    a['payload'] = Buffer.from(String(a['payload']), 'base64');
    const ratio = a['ratio'] as { scale: number; value: string };
    a['ratio'] = { scale: ratio.scale, value: Buffer.from(ratio.value, 'base64') };
  }
  return { key: frame(avroFx.registry_response.key.id, keyType.toBuffer(p.key)), value: frame(avroFx.registry_response.value.id, valueType.toBuffer(v)) };
}

/** The registry the decoders resolve the two fixture ids from. */
export const fixtureRegistry = {
  schemaById: (id: number): Promise<string> => Promise.resolve(id === avroFx.registry_response.key.id ? avroFx.registry_response.key.schema : avroFx.registry_response.value.schema),
};
