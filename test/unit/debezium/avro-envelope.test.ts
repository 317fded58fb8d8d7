// The envelope reader (decodingType): a Debezium change event decoded from Avro reads only
// what the interpreter uses, and still yields the same ChangeEvent as the JSON form of the
// same payload, for upserts (before skipped) and deletes (before read from its place).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { avroType, decodingType } from '../../../src/debezium/avro.js';
import { createDecodeContext, decodeRecord, decodeRecordAsync } from '../../../src/debezium/index.js';
import type { ChangeEvent, DecodeContextOptions, KafkaRecordIn } from '../../../src/debezium/index.js';
import { loadJson, loadRecords } from './fixtures.js';

interface AvroFixture {
  registry_response: { key: { id: number; schema: string }; value: { id: number; schema: string } };
}
interface JsonFixture {
  topic: string;
  key: { schema: unknown; payload: Record<string, unknown> };
  value: { schema: unknown; payload: Payload };
}
type Payload = Record<string, unknown> & { before: Record<string, unknown> | null; after: Record<string, unknown> | null; source: Record<string, unknown> };

const fx = loadJson<AvroFixture>('pg-many-types.avro-schemas.json');
const json = loadJson<JsonFixture>('pg-many-types.json');
const keyType = avroType(JSON.parse(fx.registry_response.key.schema));
const valueType = avroType(JSON.parse(fx.registry_response.value.schema));
const registry = { schemaById: (id: number): Promise<string> => Promise.resolve(id === fx.registry_response.key.id ? fx.registry_response.key.schema : fx.registry_response.value.schema) };

/** The fixture payload as `op` with both images set (JSON-safe numbers, so both wire forms carry the same values). */
function payload(op: string): Payload {
  const p = structuredClone(json.value.payload);
  const row = { ...(p.after as Record<string, unknown>), big_counter: 123456789 };
  p.op = op;
  p.before = op === 'c' || op === 'r' ? null : { ...row, note: 'old' };
  p.after = op === 'd' ? null : row;
  if (op === 'r') p.source['snapshot'] = 'true';
  return p;
}

/** JSON base64 bytes → Buffers, as the Avro encoder takes them. */
function avroRow(r: Record<string, unknown> | null): Record<string, unknown> | null {
  if (r === null) return null;
  const ratio = r['ratio'] as { scale: number; value: string };
  return { ...r, price: Buffer.from(String(r['price']), 'base64'), payload: Buffer.from(String(r['payload']), 'base64'), ratio: { ...ratio, value: Buffer.from(ratio.value, 'base64') } };
}

function body(p: Payload): Buffer {
  return valueType.toBuffer({ ...p, before: avroRow(p.before), after: avroRow(p.after) });
}

/** A registry's framing: magic byte 0, the id in 4 bytes (Confluent) or 8 (Apicurio), the body. */
function framed(id: number, b: Buffer, idBytes: 4 | 8 = 4): Buffer {
  const h = Buffer.alloc(1 + idBytes);
  if (idBytes === 4) h.writeUInt32BE(id, 1);
  else h.writeBigUInt64BE(BigInt(id), 1);
  return Buffer.concat([h, b]);
}

function records(p: Payload, withKey: boolean): { avro: KafkaRecordIn; json: KafkaRecordIn } {
  const key = { id: 42 };
  const base = { topic: json.topic, partition: 0, offset: 3n };
  return {
    avro: { ...base, key: withKey ? framed(fx.registry_response.key.id, keyType.toBuffer(key)) : null, value: framed(fx.registry_response.value.id, body(p)) },
    json: { ...base, key: withKey ? Buffer.from(JSON.stringify({ schema: json.key.schema, payload: key })) : null, value: Buffer.from(JSON.stringify({ schema: json.value.schema, payload: p })) },
  };
}

async function events(p: Payload, withKey: boolean, opts: DecodeContextOptions = {}): Promise<{ avro: ChangeEvent; json: ChangeEvent }> {
  const r = records(p, withKey);
  const a = await decodeRecordAsync(r.avro, createDecodeContext({ ...opts, registry }));
  const j = decodeRecord(r.json, createDecodeContext(opts));
  assert.equal(a.kind, 'change', a.kind === 'invalid' ? a.error.message : a.kind);
  assert.equal(j.kind, 'change', j.kind === 'invalid' ? j.error.message : j.kind);
  if (a.kind !== 'change' || j.kind !== 'change') throw new Error('unreachable');
  return { avro: a.event, json: j.event };
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));

describe('Avro envelope reader', () => {
  const reader = decodingType(valueType);

  it('an upsert reads after, the used source fields, transaction and op; before and the ts_* fields are skipped', () => {
    const p = payload('u');
    const full = valueType.fromBuffer(body(p)) as Payload;
    const read = reader.decode(body(p), 0) as { value: Record<string, unknown>; offset: number };
    assert.equal(read.offset, body(p).length, 'the skipped fields are consumed');
    assert.deepEqual(Object.keys(read.value), ['before', 'after', 'source', 'transaction', 'op']);
    assert.equal(read.value['before'], undefined);
    assert.deepEqual(plain(read.value['after']), plain(full.after));
    assert.equal(read.value['op'], 'u');
    const source = read.value['source'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(source), ['connector', 'ts_ms', 'snapshot', 'db', 'sequence', 'schema', 'table', 'txId', 'lsn']);
    for (const k of Object.keys(source)) assert.deepEqual(source[k], full.source[k], `source.${k}`);
  });

  it('a delete reads before from its place and still ends at the body end', () => {
    const p = payload('d');
    const read = reader.decode(body(p), 0) as { value: Record<string, unknown>; offset: number };
    assert.equal(read.offset, body(p).length);
    assert.deepEqual(plain(read.value['before']), plain((valueType.fromBuffer(body(p)) as Payload).before));
    assert.equal(read.value['after'], null);
  });

  it('a truncated envelope is still reported by decode (offset -1), not read past', () => {
    const b = body(payload('u'));
    assert.equal(reader.decode(b.subarray(0, b.length - 3), 0).offset, -1);
  });

  it('keys and other non-envelope schemas decode with avsc type unchanged', () => {
    assert.equal(decodingType(keyType), keyType);
  });

  for (const op of ['c', 'r', 'u']) {
    it(`op=${op}: the Avro event equals the JSON event of the same payload`, async () => {
      const e = await events(payload(op), true);
      assert.deepEqual({ ...e.avro, origin: null }, { ...e.json, origin: null });
    });
  }

  it('a keyless delete (all-columns) takes its row from before, as JSON does', async () => {
    const e = await events(payload('d'), false, { keyless: 'all-columns' });
    assert.equal(e.avro.op, 'd');
    assert.equal(e.avro.row?.['note'], 'old');
    assert.deepEqual({ ...e.avro, origin: null }, { ...e.json, origin: null });
  });

  it('an unchanged TOASTed bytes column (the placeholder as bytes) is unavailable, as in JSON', async () => {
    const p = payload('u');
    (p.after as Record<string, unknown>)['payload'] = Buffer.from('__debezium_unavailable_value').toString('base64');
    (p.after as Record<string, unknown>)['note'] = '__debezium_unavailable_value';
    const e = await events(p, true);
    assert.deepEqual(e.avro.unavailable, ['payload', 'note']);
    assert.deepEqual({ ...e.avro, origin: null }, { ...e.json, origin: null });
  });

  it("Apicurio's framing (an 8-byte id) decodes as Confluent's does, and its ids are not Confluent's", async () => {
    const p = payload('u');
    const asked: string[] = [];
    // 8-byte id 7 is the value schema, 8-byte id 8 the key's; 4-byte ids 7 and 8 exist too but
    // are other schemas: an Apicurio global id is never looked up as a Confluent id.
    const wide = new Map([[7, fx.registry_response.value.schema], [8, fx.registry_response.key.schema]]);
    const ctx = createDecodeContext({
      registry: {
        schemaById: (id, idBytes = 4) => {
          asked.push(`${idBytes}:${id}`);
          return Promise.resolve(idBytes === 8 ? (wide.get(id) as string) : '"string"');
        },
      },
    });
    const rec = { topic: json.topic, partition: 0, offset: 3n, key: framed(8, keyType.toBuffer({ id: 42 }), 8), value: framed(7, body(p), 8) };
    const a = await decodeRecordAsync(rec, ctx);
    assert.equal(a.kind, 'change', a.kind === 'invalid' ? a.error.message : a.kind);
    assert.deepEqual(asked.sort(), ['8:7', '8:8']);
    const e = await events(p, true);
    if (a.kind === 'change') assert.deepEqual({ ...a.event, origin: null }, { ...e.avro, origin: null });
    // A 4-byte id 7 in the same context is a different schema (here a string, not an envelope).
    const confluent = await decodeRecordAsync({ ...rec, value: framed(7, body(p)) }, ctx);
    assert.equal(confluent.kind, 'invalid');
    assert.deepEqual(asked.sort(), ['4:7', '8:7', '8:8']);
  });

  it('a keyed delete keeps only the key, as JSON does', async () => {
    const e = await events(payload('d'), true);
    assert.deepEqual(e.avro.row, { id: 42 });
    assert.deepEqual({ ...e.avro, origin: null }, { ...e.json, origin: null });
  });
});

interface Connect {
  type: string;
  optional?: boolean;
  field?: string;
  name?: string;
  fields?: Connect[];
}

/** Plain Connect struct → Avro as AvroConverter writes it (enough for the MySQL fixture: structs, ints, strings). */
function connectToAvro(s: Connect, name: string): unknown {
  const prim: Record<string, string> = { int32: 'int', int64: 'long', string: 'string', boolean: 'boolean' };
  const t = s.type === 'struct' ? { type: 'record', name, fields: (s.fields ?? []).map((f) => ({ name: f.field, type: connectToAvro(f, `${name}_${f.field ?? ''}`) })) } : (prim[s.type] ?? 'string');
  return s.optional ? ['null', t] : t;
}

describe('Avro envelope reader, MySQL source (file/pos/row/gtid)', () => {
  const recs = loadRecords('mysql-crud-with-schema.jsonl').filter((r) => r.value !== null);
  for (const [i, r] of recs.entries()) {
    it(`record ${i}: the Avro event equals the JSON event`, async () => {
      const v = JSON.parse(Buffer.from(r.value as Uint8Array).toString()) as { schema: Connect; payload: Record<string, unknown> };
      const k = JSON.parse(Buffer.from(r.key as Uint8Array).toString()) as { schema: Connect; payload: Record<string, unknown> };
      const vType = avroType(connectToAvro(v.schema, 'Envelope'));
      const kType = avroType(connectToAvro(k.schema, 'Key'));
      const schemas = new Map([[1, JSON.stringify(connectToAvro(k.schema, 'Key'))], [2, JSON.stringify(connectToAvro(v.schema, 'Envelope'))]]);
      const ctx = createDecodeContext({ registry: { schemaById: (id) => Promise.resolve(schemas.get(id) as string) } });
      const a = await decodeRecordAsync({ ...r, key: framed(1, kType.toBuffer(k.payload)), value: framed(2, vType.toBuffer(v.payload)) }, ctx);
      const j = decodeRecord(r, createDecodeContext());
      assert.equal(a.kind, 'change', a.kind === 'invalid' ? a.error.message : a.kind);
      if (a.kind !== 'change' || j.kind !== 'change') return;
      assert.match(a.event.position.text, /^mysql:1\/mysql-bin\.\d+:\d+:\d+ gtid=/);
      assert.deepEqual(a.event, j.event);
    });
  }
});
