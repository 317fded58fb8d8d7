/**
 * Content codecs of log blocks: Avro data (type 3), delete (type 1) and, for reading
 * Spark-written tables, Parquet data (type 5).
 */
import type avro from 'avsc';
import { arrowToRows, readParquet } from '../table/parquet.js';
import type { Row, TableSchema, Value } from '../table/schema.js';
import { avroType, decodeDatum, encodeDatum, toPlain } from './avro-value.js';
import { AvroSource, compileDecoder, compileProjection, type ProjectedDecode } from './avro-decoder.js';
import { bySchemaText } from './avro-compile.js';
import { AvroSink, compileRecord, type CompiledRecord } from './avro-encoder.js';
import { BLOCK_CONTENT_VERSION, type LogBlockHeaders } from './log-format.js';
import { loadHudiSchema } from './schemas.js';
import { concat, int32 } from './bytes.js';

export class LogContentError extends Error {
  override readonly name = 'LogContentError';
}

const typeCache = new Map<string, avro.Type>();

/** avsc type for a schema JSON string, cached (the same header schema repeats on every block). */
export function schemaType(schema: string | TableSchema): avro.Type {
  const key = typeof schema === 'string' ? schema : JSON.stringify(schema);
  let t = typeCache.get(key);
  if (t === undefined) {
    t = avroType(key);
    typeCache.set(key, t);
  }
  return t;
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  int(field: string): number {
    if (this.pos + 4 > this.bytes.length) throw new LogContentError(`${this.what}: ${field} at content byte ${this.pos} runs past the end`);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  /**
   * Moves past record `index` (int length, then its datum) and returns where the datum starts.
   * Error labels are built only when a check fails: a label string per record cost as much as
   * decoding a small record.
   */
  datum(index: number): number {
    const at = this.pos;
    if (at + 4 > this.bytes.length) throw new LogContentError(`${this.what}: record ${index} length at content byte ${at} runs past the end`);
    const n = this.view.getInt32(at);
    const start = at + 4;
    if (n < 0 || start + n > this.bytes.length) throw new LogContentError(`${this.what}: record ${index} (${n} bytes at content byte ${start}) runs past the end`);
    this.pos = start + n;
    return start;
  }
  take(n: number, field: string): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) throw new LogContentError(`${this.what}: ${field} (${n} bytes at content byte ${this.pos}) runs past the end`);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

const compiledDecoder = bySchemaText(compileDecoder);

/** Top-level field names of a record schema, in order; undefined for any other schema. */
function recordFields(schema: unknown): readonly string[] | undefined {
  const o = schema as { type?: unknown; fields?: { name?: unknown }[] } | null;
  if (o === null || typeof o !== 'object' || o.type !== 'record' || !Array.isArray(o.fields)) return undefined;
  const names = o.fields.map((f) => f.name);
  return names.every((n): n is string => typeof n === 'string') ? names : undefined;
}

/**
 * The fields, in order, of every row `decodeAvroDataContent` returns for this SCHEMA header
 * (both decoders build rows field by field in schema order); undefined when not a record.
 */
export const avroDataFields = bySchemaText(recordFields);
const compiledRecord = bySchemaText(compileRecord);

/** Values of some top-level fields given as columns (index = row index) instead of row properties. */
export type SideColumns = Readonly<Record<string, readonly Value[]>>;

/**
 * Records that come after a block's rows with all but their first `lead` fields already
 * encoded (rows the fast path wrote): each is written as its lead fields, nullable strings
 * taken from the side columns at index `rows.length + i`, then `tail(i)` as it is.
 */
export interface EncodedTails {
  lead: number;
  count: number;
  tail(i: number): Uint8Array;
}

/**
 * Avro data block content: int version 3, int count, then per record int length + Avro datum.
 * `columns` supplies fields by name for every row (e.g. the `_hoodie_*` meta fields), so
 * callers need not copy rows to add them; `tails` appends records already encoded.
 */
export function encodeAvroDataContent(schema: string | TableSchema, rows: readonly Row[], columns: SideColumns = {}, tails?: EncodedTails): Uint8Array {
  const key = typeof schema === 'string' ? schema : JSON.stringify(schema);
  const compiled = compiledRecord(key);
  // Outside the compiled fast path: avsc encodes the row, or throws naming the field.
  const viaAvsc = (sink: AvroSink, i: number): void => {
    const full: Row = { ...(rows[i] as Row) };
    for (const [name, values] of Object.entries(columns)) full[name] = values[i] ?? null;
    sink.raw(encodeDatum(schemaType(key), full, `record ${i} of an Avro data block`));
  };
  const total = rows.length + (tails?.count ?? 0);
  const sink = new AvroSink(expectedBytes(compiled, total));
  sink.int32BE(BLOCK_CONTENT_VERSION);
  sink.int32BE(total);
  if (compiled === undefined) {
    for (let i = 0; i < rows.length; i++) {
      sink.ensure(4);
      const at = sink.pos;
      sink.pos += 4;
      viaAvsc(sink, i);
      sink.buf.writeInt32BE(sink.pos - at - 4, at);
    }
  } else {
    // Own columns only: a field named `constructor` must not get Object's.
    const byPos = compiled.fieldNames.map((n) => (Object.hasOwn(columns, n) ? columns[n] : undefined));
    compiled.encodeFramed(sink, rows, byPos, viaAvsc);
  }
  if (tails !== undefined) writeTails(sink, key, rows.length, columns, tails);
  if (compiled !== undefined && total > 0) bytesPerRow.set(compiled, sink.pos / total);
  return sink.bytesView();
}

function writeTails(sink: AvroSink, schemaText: string, from: number, columns: SideColumns, tails: EncodedTails): void {
  const fields = avroDataFields(schemaText) ?? [];
  const lead = fields.slice(0, tails.lead).map((name) => {
    const values = Object.hasOwn(columns, name) ? columns[name] : undefined;
    if (values === undefined) throw new LogContentError(`encoded records need side column ${name}`);
    return values;
  });
  if (lead.length !== tails.lead) throw new LogContentError(`encoded records lead with ${tails.lead} fields, the schema has ${fields.length}`);
  for (let i = 0; i < tails.count; i++) {
    sink.ensure(4);
    const at = sink.pos;
    sink.pos += 4;
    for (const values of lead) {
      const v = values[from + i];
      if (v === null || v === undefined) sink.byte(0);
      else if (typeof v === 'string') {
        sink.byte(2);
        sink.string(v);
      } else throw new LogContentError(`encoded records lead with nullable strings, got ${typeof v}`);
    }
    sink.raw(tails.tail(i));
    sink.buf.writeInt32BE(sink.pos - at - 4, at);
  }
}

/** How each datum of a schema becomes a row: the compiled decoder, or avsc outside it. */
function rowDecoder(schema: string): (src: AvroSource) => Row {
  const decode = compiledDecoder(schema);
  if (decode !== undefined) return (src) => decode(src) as Row;
  const type = schemaType(schema);
  return (src) => {
    const row = decodeDatum(type, src.buf.subarray(src.pos, src.end)) as Row;
    src.pos = src.end;
    return row;
  };
}

/** One Avro datum (a record's bytes, no framing) as a row. */
export function decodeAvroDatum(schema: string, datum: Uint8Array): Row {
  const buf = Buffer.from(datum.buffer, datum.byteOffset, datum.byteLength);
  return rowDecoder(schema)(new AvroSource(buf, 0, buf.length));
}

/** Bytes per record of the last block encoded with a schema: the next block's buffer is sized from it. */
const bytesPerRow = new WeakMap<CompiledRecord, number>();

/** The guess is capped: a block of a few huge rows must not size the next block's buffer by their size. */
const MAX_GUESS = 64 * 1024 * 1024;

function expectedBytes(compiled: CompiledRecord | undefined, rows: number): number {
  const per = compiled === undefined ? undefined : bytesPerRow.get(compiled);
  return per === undefined ? 256 * 1024 : Math.min(MAX_GUESS, Math.ceil(rows * per * 1.1) + 1024);
}

/** The block's records as rows; with `only`, just the records `i` where `only[i]` is 1, in order. */
export function decodeAvroDataContent(content: Uint8Array, schema: string, what = 'Avro data block', only?: Uint8Array): Row[] {
  return eachDatum(content, what, rowDecoder(schema), only);
}

/** Which fields of a data block's records to build into rows, and which to hand over beside them. */
export interface AvroProjection {
  /** The row's fields, in order (null for those the block's schema lacks). */
  fields: readonly string[];
  /** Fields passed to `make` by index (null when absent), whether or not they are row fields. */
  side: readonly string[];
}

/** Projected decoders by field lists and schema; queries may ask many column lists, so the cap bounds a long run. */
const projections = new Map<string, ProjectedDecode | null>();
const MAX_PROJECTIONS = 64;

/**
 * Like decodeAvroDataContent, but each record becomes `make(row, side)` with the row holding
 * exactly `p.fields` and `side` the values of `p.side` (an array reused for every record): a
 * reader that wants a few columns pays neither for the others' strings nor for a row copy.
 */
export function decodeAvroDataProjected<T>(content: Uint8Array, schema: string, p: AvroProjection, make: (row: Row, side: readonly Value[]) => T, what = 'Avro data block'): T[] {
  const key = `${p.fields.join(',')}\0${p.side.join(',')}\0${schema}`;
  let decode = projections.get(key);
  if (decode === undefined) {
    if (projections.size >= MAX_PROJECTIONS) projections.clear();
    decode = compileProjection(JSON.parse(schema), p.fields, p.side) ?? null;
    projections.set(key, decode);
  }
  const side: Value[] = new Array<Value>(p.side.length).fill(null);
  if (decode !== null) {
    const d = decode;
    return eachDatum(content, what, (src) => make(d(src, side) as Row, side));
  }
  // Schemas the compiled decoder does not cover: whole rows from avsc, then picked (own fields
  // only, and set as own: a field named `constructor` or `__proto__` is data, not Object's).
  const own = (full: Row, n: string): Value => (Object.hasOwn(full, n) ? (full[n] ?? null) : null);
  return decodeAvroDataContent(content, schema, what).map((full) => {
    const row: Row = {};
    for (const n of p.fields) Object.defineProperty(row, n, { value: own(full, n), enumerable: true, writable: true, configurable: true });
    p.side.forEach((n, j) => void (side[j] = own(full, n)));
    return make(row, side);
  });
}

/**
 * `read` of each record of an Avro data block's content, with `src` at the record's datum, which
 * it must read to its end; with `only`, of the records `i` where `only[i]` is 1 (the others are
 * skipped by their framed length, not decoded).
 */
function eachDatum<T>(content: Uint8Array, what: string, read: (src: AvroSource) => T, only?: Uint8Array): T[] {
  const r = new Reader(content, what);
  const version = r.int('content version');
  if (version !== BLOCK_CONTENT_VERSION) throw new LogContentError(`${what}: content version ${version} is not supported (only ${BLOCK_CONTENT_VERSION})`);
  const count = r.int('record count');
  const src = new AvroSource(Buffer.from(content.buffer, content.byteOffset, content.byteLength), 0, 0);
  const out: T[] = [];
  for (let i = 0; i < count; i++) {
    const start = r.datum(i);
    const end = r.pos;
    if (only !== undefined && only[i] !== 1) continue;
    try {
      out.push(read(src.at(start, end)));
      if (src.pos !== end) throw new RangeError(`${end - src.pos} trailing bytes in the datum`);
    } catch (e) {
      throw new LogContentError(`${what}: record ${i} does not decode with the SCHEMA header: ${(e as Error).message}`);
    }
  }
  if (r.pos !== content.length) throw new LogContentError(`${what}: ${content.length - r.pos} trailing bytes after ${count} records`);
  return out;
}

export function avroDataBlock(p: { instantTime: string; schema: string | TableSchema; rows: readonly Row[]; columns?: SideColumns; tails?: EncodedTails }): {
  type: 'AVRO_DATA';
  headers: LogBlockHeaders;
  content: Uint8Array;
} {
  const schema = typeof p.schema === 'string' ? p.schema : JSON.stringify(p.schema);
  return { type: 'AVRO_DATA', headers: { INSTANT_TIME: p.instantTime, SCHEMA: schema }, content: encodeAvroDataContent(schema, p.rows, p.columns, p.tails) };
}

export interface DeleteRecord {
  recordKey: string | null;
  partitionPath: string | null;
  /** Decoded ordering value (wrapper unwrapped); 0 means "natural/commit-time order". */
  orderingVal: Value;
}

/**
 * How the delete orderingVal is encoded:
 * - `int-zero` (default): always union index 2 with 0 — Java reads IntWrapper(0), hudi-rs's
 *   primitive union reads long 0; both fall back to commit-time ordering.
 * - `java-wrapper`: the real value in Java's wrapper union (LongWrapper for integers,
 *   DoubleWrapper, StringWrapper, BooleanWrapper, BytesWrapper); only readers that
 *   understand wrappers (Java, hudi-rs ≥ 0.5 per apache/hudi-rs#663) decode it.
 */
export type OrderingEncoding = 'int-zero' | 'java-wrapper';

const NS = 'org.apache.hudi.avro.model.';

function wrapOrdering(v: Value, enc: OrderingEncoding): unknown {
  if (enc === 'int-zero') return { [`${NS}IntWrapper`]: { value: 0 } };
  if (v === null) return null;
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return { [`${NS}LongWrapper`]: { value: v } };
  if (typeof v === 'number') return { [`${NS}DoubleWrapper`]: { value: v } };
  if (typeof v === 'boolean') return { [`${NS}BooleanWrapper`]: { value: v } };
  if (typeof v === 'string') return { [`${NS}StringWrapper`]: { value: v } };
  if (v instanceof Uint8Array) return { [`${NS}BytesWrapper`]: { value: Buffer.from(v) } };
  throw new LogContentError(`delete orderingVal ${JSON.stringify(v)} has no Hudi wrapper type; use a long ordering field`);
}

function unwrapOrdering(v: unknown): Value {
  if (v === null || typeof v !== 'object') return toPlain(v);
  const inner = Object.values(v)[0] as { value: unknown } | undefined;
  return toPlain(inner?.value ?? null);
}

function deleteListType(): avro.Type {
  return schemaType(JSON.stringify(loadHudiSchema('HoodieDeleteRecordList')));
}

/** Delete block content: int version 3, int length, Avro `HoodieDeleteRecordList`. */
export function encodeDeleteContent(records: readonly DeleteRecord[], opts: { orderingEncoding?: OrderingEncoding } = {}): Uint8Array {
  const enc = opts.orderingEncoding ?? 'int-zero';
  const list = {
    deleteRecordList: records.map((r) => ({ recordKey: r.recordKey, partitionPath: r.partitionPath, orderingVal: wrapOrdering(r.orderingVal, enc) })),
  };
  const payload = encodeDatum(deleteListType(), list, 'delete block');
  return concat([int32(BLOCK_CONTENT_VERSION), int32(payload.length), payload]);
}

export function decodeDeleteContent(content: Uint8Array, what = 'delete block'): DeleteRecord[] {
  const r = new Reader(content, what);
  const version = r.int('content version');
  if (version !== BLOCK_CONTENT_VERSION) throw new LogContentError(`${what}: content version ${version} is not supported (only ${BLOCK_CONTENT_VERSION}; 1 and 2 are Kryo)`);
  const len = r.int('payload length');
  const payload = r.take(len, 'payload');
  let decoded: { deleteRecordList: { recordKey: string | null; partitionPath: string | null; orderingVal: unknown }[] };
  try {
    decoded = deleteListType().fromBuffer(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)) as typeof decoded;
  } catch (e) {
    throw new LogContentError(`${what}: payload is not a HoodieDeleteRecordList: ${(e as Error).message}`);
  }
  return decoded.deleteRecordList.map((d) => ({ recordKey: d.recordKey, partitionPath: d.partitionPath, orderingVal: unwrapOrdering(d.orderingVal) }));
}

export function deleteBlock(p: {
  instantTime: string;
  schema: string | TableSchema;
  records: readonly DeleteRecord[];
  orderingEncoding?: OrderingEncoding;
}): { type: 'DELETE'; headers: LogBlockHeaders; content: Uint8Array } {
  const schema = typeof p.schema === 'string' ? p.schema : JSON.stringify(p.schema);
  const content = encodeDeleteContent(p.records, p.orderingEncoding === undefined ? {} : { orderingEncoding: p.orderingEncoding });
  return { type: 'DELETE', headers: { INSTANT_TIME: p.instantTime, SCHEMA: schema }, content };
}

/** Parquet data block content is a whole Parquet file; decoded through parquet-wasm + Arrow. */
export function decodeParquetDataContent(content: Uint8Array, what = 'Parquet data block'): Row[] {
  let table;
  try {
    table = readParquet(content, { fileName: what });
  } catch (e) {
    throw new LogContentError(`${what}: content is not a readable Parquet file: ${(e as Error).message}`);
  }
  // The one Arrow → Value conversion (table/parquet.ts), without a schema: every column as stored.
  return arrowToRows(table);
}
