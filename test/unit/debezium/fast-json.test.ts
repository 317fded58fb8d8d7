// The JSON fast path (schemaless and with schema) agrees with the general decoder: on generated records (good
// ones and every kind of oddity it must leave alone), whenever it answers, the general
// decoder reads the same change and its row encodes to the same Avro bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDecodeContext, decodeRecord, SchemaTracker, type DecodeContext, type KafkaRecordIn } from '../../../src/debezium/index.js';
import { decodeFast } from '../../../src/debezium/fast-json.js';
import { envelopeSpans } from '../../../src/debezium/json-text.js';
import { AvroSink } from '../../../src/hudi/avro-encoder.js';
import { encodeAvroDataContent } from '../../../src/hudi/log-content.js';
import type { Row, TableSchema } from '../../../src/table/schema.js';
import { seededRandom } from '../../support/random.js';


const PLACEHOLDER = '__debezium_unavailable_value';

/** The Avro datum of one row, as the table writer's encoder writes it. */
function datum(schema: TableSchema, row: Row): Buffer {
  const content = Buffer.from(encodeAvroDataContent(schema, [row]));
  return content.subarray(12); // version, count, record length
}

/**
 * Records of two tables. Most are plain; each of the rest has one oddity. Values that change
 * a column's type (which quarantines the table) go only to `orders`, so `customers` keeps
 * its fast path and meets every other oddity.
 */
function gen(seed: number) {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const chance = (p: number): boolean => r() < p;
  type Values = readonly [plain: readonly string[], compatible: readonly string[], changing: readonly string[]];
  const longs: Values = [['0', '7', '-3', '42'], ['-0', '123456789012345', '-999999999999999', '1234567890123456', '1.5', '2e3', '01', '1 '], ['"9"', 'true']];
  const doubles: Values = [['0.25', '-1.5', '3', '0.1'], ['-0', '1e-7', '6.02E23', '12345678901234567890', '2.0', '1.', '.5'], ['"x"']];
  const strings: Values = [['"a"', '""', '"customer 17"', '"x y"'], ['"tab\\tbed"', '"quote\\"d"', '"caf\u00e9"', `"${PLACEHOLDER}"`, '"\\u0041"', '"ctl\u0001"', '"\\x"'], ['5', 'false']];
  const bools: Values = [['true', 'false'], ['tru', 'nul'], ['1']];
  const cols = [['id', longs], ['name', strings], ['score', doubles], ['active', bools], ['note', strings], ['n', longs]] as const;
  let lsn = 1000;
  return (i: number): KafkaRecordIn => {
    const table = chance(0.9) ? 'customers' : 'orders';
    const odd = chance(0.3);
    const oddity = odd ? Math.floor(r() * 20) : -1;
    const topic = `db.public.${table}`;
    const id = Math.floor(r() * 50);
    const members: string[] = [];
    for (const [name, [plain, compatible, changing]] of cols) {
      if (oddity === 0 && chance(0.3)) continue; // a missing column
      // the row's key column mostly holds the Kafka key's value
      let v = chance(0.05) ? 'null' : name === 'id' && !chance(0.05) ? String(id) : pick(plain);
      // (a fraction would make the key column double: a table the fast path leaves alone for good)
      if (oddity === 1 && chance(0.4)) v = name === 'id' ? pick(['-0', '01', `${id} `, '1e1']) : pick(compatible);
      if (oddity === 2 && table === 'orders' && chance(0.3)) v = pick(changing);
      members.push(`"${name}":${v}`);
    }
    if (oddity === 3) members.push('"extra":1');
    if (oddity === 4) members.reverse();
    const after = `{${members.join(oddity === 5 ? ', ' : ',')}}`;
    lsn += 1 + Math.floor(r() * 100);
    const lsnText = oddity === 6 ? '9007199254740993123' : String(lsn);
    // Debezium's escaped quotes, a commit LSN, and escapes only JSON.parse reads (or that make the sequence unreadable)
    const sequence = chance(0.8) ? `[null,\\"${lsnText}\\"]` : pick([`[\\"${lsn - 1}\\",\\"${lsnText}\\"]`, `[\\u0022${lsn - 1}\\u0022,\\"${lsnText}\\"]`, `[null,\\"${lsnText}\\\\\\"]`, `[null,\\/${lsnText}]`]);
    const source = oddity === 7
      ? `{"connector":"mysql","db":"public","table":"${table}","file":"mysql-bin.000003","pos":${lsn},"row":0,"ts_ms":1700000000000}`
      : `{"version":"3.0.0","connector":"postgresql","name":"db","ts_ms":${oddity === 8 ? 'null' : 1700000000000 + i},"snapshot":"${oddity === 9 ? pick(['true', 'last', 'incremental']) : 'false'}","db":"app","schema":"${chance(0.05) ? 'pub\\u006cic' : 'public'}","table":"${oddity === 10 ? 'other' : table}","txId":${oddity === 8 ? 'null' : 500 + i},"lsn":${lsnText},"sequence":"${sequence}"}`;
    const op = oddity === 11 ? pick(['d', 't', 'x', 'm']) : pick(['c', 'u', 'u', 'r']);
    const parts: string[] = [
      `"before":${oddity === 12 ? pick(['{"id":1,"name":"old"}', '{"id":1,}', '{"id":1e}', '[1,2]', '"b"']) : 'null'}`,
      `"after":${op === 'd' ? 'null' : after}`,
      `"source":${source}`,
    ];
    if (oddity === 13) parts.push(`"transaction":${pick(['null', '{"id":"77:123","total_order":1,"data_collection_order":1}'])}`);
    parts.push(`"op":"${op}"`, `"ts_ms":${oddity === 14 ? pick(['17e11', '-', '"t"', '-0.5e+3', '00']) : '1700000000001'}`);
    if (oddity === 15) parts.push(pick(['"ts_ns":1700000000001000000123', '"x\u0001":1', '"y":"\\q"', '"z":"\\u12"', '"w":{"a":[1,{"b":null}]}']));
    if (oddity === 16) parts.push('"after":{"id":1}');
    if (oddity === 17) parts.reverse();
    let value = `{${parts.join(',')}}`;
    if (oddity === 18) value = pick([value.slice(0, -1), `${value} `, `{"schema":null,"payload":${value}}`, `{"schema":1,${value.slice(1)}`]);
    // other key columns change the table's key, which also quarantines it
    const key = oddity !== 19 ? `{"id":${id}}` : table === 'orders' ? pick([`{"key":${id}}`, `{"id":${id},"x":1}`]) : pick([`{"id": ${id}}`, `{"id":"${id}"}`, 'null', `{"id":1${'0'.repeat(15)}}`]);
    return { topic, partition: 0, offset: BigInt(i), key: Buffer.from(key), value: Buffer.from(value) };
  };
}

/** The Connect schema JsonConverter would send with the generated rows (orders: `int64` ids, a 32-bit float; `n` not optional). */
function withSchema(rec: KafkaRecordIn): KafkaRecordIn {
  const orders = rec.topic.endsWith('orders');
  const id = { type: orders ? 'int64' : 'int32', optional: false, field: 'id' };
  const row = { type: 'struct', optional: true, name: `db.public.${orders ? 'orders' : 'customers'}.Value`, fields: [
    id,
    { type: 'string', optional: true, field: 'name' },
    { type: orders ? 'float' : 'double', optional: true, field: 'score' },
    { type: 'boolean', optional: true, field: 'active' },
    { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', field: 'note' },
    { type: 'int64', optional: false, name: 'io.debezium.time.MicroTimestamp', field: 'n' },
  ] };
  const envelope = { type: 'struct', optional: false, name: `db.public.${orders ? 'orders' : 'customers'}.Envelope`, fields: [
    { ...row, field: 'before' }, { ...row, field: 'after' },
    { type: 'struct', optional: false, name: 'io.debezium.connector.postgresql.Source', field: 'source', fields: [] },
    { type: 'string', optional: false, field: 'op' }, { type: 'int64', optional: true, field: 'ts_ms' },
  ] };
  const key = { type: 'struct', optional: false, name: `db.public.${orders ? 'orders' : 'customers'}.Key`, fields: [id] };
  const wrap = (schema: unknown, payload: Uint8Array | null): Buffer | null => (payload === null ? null : Buffer.from(`{"schema":${JSON.stringify(schema)},"payload":${Buffer.from(payload).toString()}}`));
  return { ...rec, key: wrap(key, rec.key), value: wrap(envelope, rec.value) };
}

/**
 * Reads `rec` by the fast path and by the general decoder; when the fast path answers, the
 * general decoder must read the same change and its row must encode to the same bytes.
 * Returns whether the fast path answered.
 */
function agrees(rec: KafkaRecordIn, ctx: DecodeContext): boolean {
  const sink = new AvroSink(256);
  const f = decodeFast(rec, ctx, sink);
  const slow = decodeRecord(rec, ctx);
  if (f === undefined) return false;
  const what = `record ${rec.offset}: ${rec.key?.toString()} ${rec.value?.toString()}`;
  assert.equal(slow.kind, 'change', what);
  if (slow.kind !== 'change') return true;
  const e = slow.event;
  assert.equal(e.schema, f.schema, `${what}: schema object`);
  assert.deepEqual([e.table, e.op, e.key, e.keyFields, e.position.ordering, e.position.text, e.sourceTsMs, e.txId, e.unavailable], [f.table, f.op, { [f.keyFields[0] as string]: f.key }, f.keyFields, f.position.ordering, f.position.text, f.sourceTsMs, f.txId, []], what);
  assert.deepEqual(sink.buf.subarray(0, sink.pos), datum(e.schema, e.row as Row), `${what}: row bytes`);
  const spans = envelopeSpans(Buffer.from(rec.value as Uint8Array));
  assert.equal(f.size, spans === null ? rec.value?.length : spans.payloadEnd - spans.payloadStart, `${what}: size`);
  return true;
}

describe('JSON fast path', () => {
  for (const [flavour, seed] of [['schemaless', 1], ['schemaless', 2], ['schemaless', 3], ['schemaless', 4], ['with schema', 5], ['with schema', 6], ['with schema', 7]] as const) {
    it(`agrees with the general decoder on 4000 generated records (${flavour}, seed ${seed})`, () => {
      const ctx = createDecodeContext({ tracker: new SchemaTracker() });
      const next = gen(seed);
      let fast = 0;
      for (let i = 0; i < 4000; i++) {
        if (agrees(flavour === 'schemaless' ? next(i) : withSchema(next(i)), ctx)) fast++;
      }
      // most records are plain: a fast path that never answers fails here
      assert.ok(fast > 2000, `fast path answered ${fast} of 4000`);
    });
  }

  /**
   * Byte-level mutations of generated records (a byte replaced by one that matters to JSON,
   * inserted or deleted): most become invalid or change meaning in ways no generator lists.
   * Each is read by a decoder that has just learned its topic from the intact record;
   * whenever the fast path answers, the general decoder must read the same change.
   */
  for (const [flavour, seed] of [['schemaless', 11], ['schemaless', 12], ['with schema', 13]] as const) {
    it(`agrees with the general decoder on 3000 byte-mutated records (${flavour}, seed ${seed})`, () => {
      const next = gen(seed);
      const r = seededRandom(seed * 7919);
      const bytes = Buffer.from('{}[]",:\\ \t0123456789-+.eEnulltruefalse\u0000\u007f\u00e9');
      const mutate = (v: Buffer): Buffer => {
        let out = v;
        for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
          const at = Math.floor(r() * out.length);
          const b = Buffer.of(bytes[Math.floor(r() * bytes.length)] as number);
          const kind = r();
          out = kind < 0.5 ? Buffer.concat([out.subarray(0, at), b, out.subarray(at + 1)]) : kind < 0.8 ? Buffer.concat([out.subarray(0, at), b, out.subarray(at)]) : Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        }
        return out;
      };
      let fast = 0;
      for (let i = 0; i < 3000; i++) {
        // with schema, the payload is mutated (a changed schema is a new layout, to learn first)
        const plain = next(i);
        const form = flavour === 'schemaless' ? (x: KafkaRecordIn) => x : withSchema;
        const ctx = createDecodeContext({ tracker: new SchemaTracker() });
        decodeRecord(form(plain), ctx);
        if (agrees(form({ ...plain, offset: plain.offset + 1n, value: mutate(plain.value as Buffer) }), ctx)) fast++;
      }
      // a mutation that keeps the record valid and its columns' types (a digit for a digit, …) keeps it fast
      assert.ok(fast > 150, `fast path answered ${fast} of 3000 mutated records`);
    });
  }

  it('learns a topic from the records the general decoder reads, and follows its schema', () => {
    const ctx = createDecodeContext({ tracker: new SchemaTracker() });
    const rec = (offset: number, after: string): KafkaRecordIn => ({
      topic: 't', partition: 0, offset: BigInt(offset), key: Buffer.from('{"id":1}'),
      value: Buffer.from(`{"before":null,"after":${after},"source":{"connector":"postgresql","schema":"s","table":"t","txId":1,"lsn":${100 + offset},"snapshot":"false"},"op":"u"}`),
    });
    const fast = (offset: number, after: string) => decodeFast(rec(offset, after), ctx, new AvroSink(64));
    assert.equal(fast(0, '{"id":1,"v":"a"}'), undefined, 'nothing learned yet');
    decodeRecord(rec(0, '{"id":1,"v":"a"}'), ctx);
    assert.equal(fast(1, '{"id":1,"v":"b"}')?.key, 1);
    // a new column: learned from the record that adds it; records without it (dropped at the source) write it null
    decodeRecord(rec(2, '{"id":1,"v":"c","w":2}'), ctx);
    assert.equal(fast(3, '{"id":1,"v":"e","w":3}')?.op, 'u');
    assert.equal(fast(4, '{"id":1,"v":"d"}')?.op, 'u');
    // a column the fast path does not write (JSON text) leaves the table to the general decoder
    decodeRecord(rec(5, '{"id":1,"v":"c","w":2,"j":{"a":1}}'), ctx);
    assert.equal(fast(6, '{"id":1,"v":"e","w":3}'), undefined);
  });
});
