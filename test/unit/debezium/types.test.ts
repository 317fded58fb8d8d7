import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDecodeContext, decodeRecord } from '../../../src/debezium/index.js';
import type { ChangeEvent, DecodeContextOptions, Decoded } from '../../../src/debezium/index.js';
import type { ConnectSchema } from '../../../src/debezium/connect-schema.js';

const SOURCE = { version: '3.1.3.Final', connector: 'postgresql', name: 's', ts_ms: 1, snapshot: 'false', db: 'd', sequence: '["10","20"]', schema: 'public', table: 't', txId: 5, lsn: 20, xmin: null };

/** JSON text where bigint values are written as exact JSON numbers. */
function bigJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `__BIG__${x}` : x)).replace(/"__BIG__(-?\d+)"/g, '$1');
}

/** A with-schema record whose row has the given columns. */
function record(fields: ConnectSchema[], after: Record<string, unknown>, opts: DecodeContextOptions = {}, text?: string): Decoded {
  const row: ConnectSchema = { type: 'struct', fields, optional: true, name: 's.public.t.Value', field: 'after' };
  const envelope = {
    schema: { type: 'struct', fields: [{ ...row, field: 'before' }, row, { type: 'struct', fields: [], field: 'source' }, { type: 'string', field: 'op' }], name: 's.public.t.Envelope' },
    payload: { before: null, after, source: SOURCE, op: 'c', ts_ms: 2 },
  };
  const key = { schema: { type: 'struct', fields: [{ type: 'int32', field: 'id' }] }, payload: { id: 1 } };
  return decodeRecord({ topic: 's.public.t', partition: 0, offset: 1n, key: Buffer.from(JSON.stringify(key)), value: Buffer.from(text ?? bigJson(envelope)) }, createDecodeContext(opts));
}

function ev(d: Decoded): ChangeEvent {
  if (d.kind !== 'change') assert.fail(d.kind === 'invalid' ? d.error.message : d.kind);
  return d.event;
}

const col = (name: string, type: ConnectSchema['type'], extra: Partial<ConnectSchema> = {}): ConnectSchema => ({ type, optional: true, field: name, ...extra });

describe('semantic types', () => {
  it('decimals: precise (negative, zero-padded), variable scale, double and string modes', () => {
    const dec = (scale: number): Partial<ConnectSchema> => ({ name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: String(scale) } });
    const e = ev(
      record(
        [col('a', 'bytes', dec(2)), col('b', 'bytes', dec(3)), col('c', 'struct', { name: 'io.debezium.data.VariableScaleDecimal', fields: [] }), col('d', 'double'), col('e', 'string'), col('f', 'bytes', dec(0))],
        { a: Buffer.from([0xfe, 0x1d, 0xc6]).toString('base64'), b: Buffer.from([0x05]).toString('base64'), c: { scale: 0, value: 'AQ==' }, d: 1.5, e: '12.30', f: 'AQ==' },
      ),
    );
    assert.equal(e.row!['a'], '-1234.50');
    assert.equal(e.row!['b'], '0.005');
    assert.equal(e.row!['c'], '1');
    assert.equal(e.row!['d'], 1.5);
    assert.equal(e.row!['e'], '12.30');
    assert.equal(e.row!['f'], '1');
    assert.deepEqual(e.schema.fields[0]?.type, ['null', { type: 'bytes', logicalType: 'decimal', precision: 38, scale: 2 }]);
  });
  it('time types, nano types, year, zoned, interval, xml, enumset, bits', () => {
    const e = ev(
      record(
        [
          col('t', 'int32', { name: 'io.debezium.time.Time' }),
          col('nt', 'int64', { name: 'io.debezium.time.NanoTime' }),
          col('nts', 'int64', { name: 'io.debezium.time.NanoTimestamp' }),
          col('y', 'int32', { name: 'io.debezium.time.Year' }),
          col('zt', 'string', { name: 'io.debezium.time.ZonedTime' }),
          col('iv', 'string', { name: 'io.debezium.time.Interval' }),
          col('x', 'string', { name: 'io.debezium.data.Xml' }),
          col('es', 'string', { name: 'io.debezium.data.EnumSet' }),
          col('bits', 'bytes', { name: 'io.debezium.data.Bits' }),
          col('cd', 'int32', { name: 'org.apache.kafka.connect.data.Date' }),
          col('cts', 'int64', { name: 'org.apache.kafka.connect.data.Timestamp' }),
        ],
        { t: 3_600_000, nt: 1, nts: 1749546927654321123n, y: 2024, zt: '11:51:30.123789Z', iv: 'P1Y2M', x: '<a/>', es: 'a,b', bits: 'BQ==', cd: 3, cts: 1000 },
        {},
        undefined,
      ),
    );
    assert.equal(e.row!['t'], 3_600_000);
    assert.equal(e.row!['nts'], 1749546927654321123n);
    assert.equal(e.row!['y'], 2024);
    assert.equal(e.row!['zt'], '11:51:30.123789Z');
    assert.deepEqual(e.row!['bits'], Buffer.from([5]));
    const types = Object.fromEntries(e.schema.fields.map((f) => [f.name, (f.type as unknown[])[1]]));
    assert.deepEqual(types['t'], { type: 'int', logicalType: 'time-millis' });
    assert.deepEqual(types['nt'], { type: 'long', 'cdc.semantic': 'nano-time' });
    assert.deepEqual(types['nts'], { type: 'long', 'cdc.semantic': 'nano-timestamp' });
    assert.deepEqual(types['y'], { type: 'int', 'cdc.semantic': 'year' });
    assert.deepEqual(types['zt'], { type: 'string', 'cdc.semantic': 'zoned-time' });
    assert.deepEqual(types['iv'], { type: 'string', 'cdc.semantic': 'interval' });
    assert.deepEqual(types['x'], { type: 'string', 'cdc.semantic': 'xml' });
    assert.deepEqual(types['es'], { type: 'string', 'cdc.semantic': 'enumset' });
    assert.deepEqual(types['bits'], { type: 'bytes', 'cdc.semantic': 'bits' });
    assert.deepEqual(types['cd'], { type: 'int', logicalType: 'date' });
    assert.deepEqual(types['cts'], { type: 'long', logicalType: 'timestamp-millis' });
  });
  it('int64 beyond 2^53 survives in with-schema JSON (lossless path) and ts_ns alone keeps the fast path', () => {
    const text = JSON.stringify({
      schema: { type: 'struct', fields: [{ type: 'struct', fields: [col('n', 'int64')], field: 'after' }, { type: 'string', field: 'op' }], name: 's.public.t.Envelope' },
      payload: { before: null, after: { n: 1 }, source: SOURCE, op: 'c' },
    }).replace('"n":1', '"n":-9223372036854775807');
    assert.equal(ev(record([col('n', 'int64')], {}, {}, text)).row!['n'], -9223372036854775807n);
  });
  it('geometry, geography and point become {wkb, srid}', () => {
    const g = (name: string): Partial<ConnectSchema> => ({ name, fields: [] });
    const e = ev(
      record([col('g', 'struct', g('io.debezium.data.geometry.Geometry')), col('p', 'struct', g('io.debezium.data.geometry.Point'))], {
        g: { wkb: 'AQEAAAAAAAAAAADwPwAAAAAAAABA', srid: 4326 },
        p: { x: 1, y: 2, wkb: null, srid: null },
      }),
    );
    assert.deepEqual(e.row!['g'], { wkb: Buffer.from('AQEAAAAAAAAAAADwPwAAAAAAAABA', 'base64'), srid: 4326 });
    assert.deepEqual(e.row!['p'], { wkb: Buffer.from('AQEAAAAAAAAAAADwPwAAAAAAAABA', 'base64'), srid: null });
    const t = (e.schema.fields[0]?.type as unknown[])[1] as { type: string; 'cdc.semantic': string };
    assert.equal(t.type, 'record');
    assert.equal(t['cdc.semantic'], 'geometry');
  });
  it('binary handling base64/hex for configured columns; placeholder in bytes and arrays', () => {
    const b64 = ev(record([col('bin', 'string')], { bin: '3q2+7w==' }, { binaryHandling: 'base64', binaryColumns: ['bin'] }));
    assert.deepEqual(b64.row!['bin'], Buffer.from('deadbeef', 'hex'));
    const hex = ev(record([col('bin', 'string')], { bin: 'deadbeef' }, { binaryHandling: 'hex', binaryColumns: ['public.t.bin'] }));
    assert.deepEqual(hex.row!['bin'], Buffer.from('deadbeef', 'hex'));
    const p = '__debezium_unavailable_value';
    const u = ev(
      record([col('b', 'bytes'), col('arr', 'array', { items: { type: 'string', optional: true } }), col('ia', 'array', { items: { type: 'int32', optional: true } })], {
        b: Buffer.from(p).toString('base64'),
        arr: [p],
        ia: [...p].map((c) => c.charCodeAt(0)),
      }),
    );
    assert.deepEqual(u.unavailable, ['b', 'arr', 'ia']);
  });
  it('unknown Debezium semantic type and wrong value types are specific invalid reasons', () => {
    const unk = record([col('x', 'string', { name: 'io.debezium.data.SomethingNew' })], { x: 'a' });
    assert.equal(unk.kind === 'invalid' && unk.error.reason, 'unknown-semantic-type');
    const wrong = record([col('n', 'int32')], { n: 'seven' });
    assert.equal(wrong.kind === 'invalid' && wrong.error.reason, 'type-mismatch');
    if (wrong.kind === 'invalid') assert.match(wrong.error.message, /field public\.t\.n expects a 32-bit integer/);
  });
});
