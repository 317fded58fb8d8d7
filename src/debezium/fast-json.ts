/**
 * The fast path for JSON change events, schemaless or with schema: an insert, update or
 * snapshot read whose `after` has the columns its shape's last decoded record had
 * (`FastLayout`, learned by `envelope.ts`: per topic for schemaless JSON, per schema bytes
 * with schema) is written straight from the value's bytes into the row's Avro encoding —
 * the bytes a log block stores — without parsing it into objects. Of the `source` block it
 * takes the members the general decoder reads, valued as `JSON.parse` gives them, and
 * hands them to the same function (`sourceFacts`), so tables, positions and transactions
 * mean the same.
 *
 * It gives the general decoder's answer or none: any record it does not fully recognise
 * (other key order in `after`, whitespace, escapes or non-ASCII text in a column, a
 * placeholder, a number that needs care, a delete, a schema that moved on) returns
 * undefined and takes the general path, which also names whatever is wrong with it.
 * The unit tests check the two agree, byte for byte, on generated records.
 */
import type { AvroSink } from '../hudi/avro-encoder.js';
import type { TableSchema } from '../table/schema.js';
import type { Op, Position } from './change-event.js';
import type { DecodeContext } from './decode.js';
import type { KafkaRecordIn } from './decoded.js';
import { sourceFacts } from './envelope.js';
import { Accept, Write, type FastColumn, type FastLayout } from './fast-layout.js';
import { asBuffer, envelopeSchema, envelopeSpans, flatIntKeyOf } from './json-text.js';
import { DecodeFailure } from './invalid-record.js';

/** A change read by the fast path; its row's Avro encoding was appended to the caller's sink. */
export interface FastChange {
  table: string;
  op: Extract<Op, 'c' | 'u' | 'r'>;
  /** The value of the table's one integer key column (in the Kafka key and the row alike). */
  key: number;
  keyFields: string[];
  position: Position;
  sourceTsMs: number | null;
  txId: string | null;
  /** The tracked table schema the row is encoded in. */
  schema: TableSchema;
  /** Bytes of the change: the value's, without the Connect schema beside its payload. */
  size: number;
}

const Q = 0x22;
const BS = 0x5c;
const LB = 0x7b;
const RB = 0x7d;
const LS = 0x5b;
const RS = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

const encoder = new TextEncoder();
const NAMES = { before: encoder.encode('before'), after: encoder.encode('after'), source: encoder.encode('source'), op: encoder.encode('op'), transaction: encoder.encode('transaction'), schema: encoder.encode('schema') };

function isName(b: Uint8Array, from: number, to: number, name: Uint8Array): boolean {
  if (to - from !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (b[from + k] !== name[k]) return false;
  return true;
}

function literal(b: Uint8Array, i: number, text: 'null' | 'true' | 'false'): number {
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return -1;
  return i + text.length;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;

/** The closing quote of a plain member name `"…":` opening at `i` (no escapes, no control characters), or -1. */
function nameEnd(b: Uint8Array, i: number, n: number): number {
  if (b[i] !== Q) return -1;
  let j = i + 1;
  while (j < n && b[j] !== Q && b[j] !== BS && (b[j] as number) >= 0x20) j++;
  return b[j] === Q && b[j + 1] === COLON ? j : -1;
}

/** End of the JSON number at `i` (RFC 8259 grammar), or -1. */
function numberEnd(b: Uint8Array, i: number): number {
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i])) while (isDigit(b[i])) i++;
  else return -1;
  if (b[i] === DOT) {
    i++;
    if (!isDigit(b[i])) return -1;
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === MINUS) i++;
    if (!isDigit(b[i])) return -1;
    while (isDigit(b[i])) i++;
  }
  return i;
}

const HEX = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
const ESCAPES = new Uint8Array(128);
for (const c of '"\\/bfnrt') ESCAPES[c.charCodeAt(0)] = 1;

/** End of the JSON string at `i` (validated as `JSON.parse` would), or -1. */
function stringEnd(b: Uint8Array, i: number, n: number): number {
  for (let j = i + 1; j < n; j++) {
    const c = b[j] as number;
    if (c === Q) return j + 1;
    if (c < 0x20) return -1;
    if (c === BS) {
      const e = b[++j] as number;
      if (e === 0x75) {
        for (let k = 1; k <= 4; k++) if (HEX[(b[j + k] as number) & 0x7f] !== 1 || (b[j + k] as number) > 0x7f) return -1;
        j += 4;
      } else if (e === undefined || e > 0x7f || ESCAPES[e] !== 1) return -1;
    }
  }
  return -1;
}

/** End of the object or array at `i` by bracket depth (strings skipped); its text is validated by whoever parses it. */
function containerEnd(b: Uint8Array, i: number, n: number): number {
  let depth = 0;
  for (let j = i; j < n; j++) {
    const c = b[j] as number;
    if (c === Q) {
      j = stringEnd(b, j, n) - 1;
      if (j < 0) return -1;
    } else if (c === LB || c === LS) depth++;
    else if (c === RB || c === RS) {
      if (--depth === 0) return j + 1;
    }
  }
  return -1;
}

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The value `JSON.parse` gives the number in [i, end): at most 15 digits and no exponent are
 * read as m / 10^k, one correctly rounded division of exact values (the fast path of
 * strtod), so the same double; the rest by `Number`. Undefined for an integer of more
 * than 15 digits (the general decoder may read it as a bigint).
 */
function decimalValue(b: Uint8Array, i: number, end: number): number | undefined {
  const neg = b[i] === MINUS;
  let m = 0;
  let digits = 0;
  let scale = -1;
  for (let k = neg ? i + 1 : i; k < end; k++) {
    const c = b[k] as number;
    if (c === DOT) scale = 0;
    else if (c >= ZERO && c <= NINE) {
      m = m * 10 + (c - ZERO);
      digits++;
      if (scale >= 0) scale++;
    } else return Number(text(b, i, end)); // an exponent
  }
  if (digits > 15) return scale < 0 ? undefined : Number(text(b, i, end));
  const v = scale <= 0 ? m : m / (POW10[scale] as number);
  return neg ? -v : v;
}

function text(b: Uint8Array, from: number, to: number): string {
  return b instanceof Buffer ? b.toString('utf8', from, to) : Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('utf8');
}

/** End of any JSON value at `i`, validated as `JSON.parse` would, or -1. */
function skipValue(b: Uint8Array, i: number, n: number): number {
  const c = b[i];
  if (c === Q) return stringEnd(b, i, n);
  if (c === 0x6e) return literal(b, i, 'null');
  if (c === 0x74) return literal(b, i, 'true');
  if (c === 0x66) return literal(b, i, 'false');
  if (c === LB || c === LS) {
    const end = containerEnd(b, i, n);
    if (end < 0) return -1;
    try {
      JSON.parse(text(b, i, end));
    } catch {
      return -1;
    }
    return end;
  }
  return numberEnd(b, i);
}

/** The value of the last integer column read (the key column's, checked by `writeRow`). */
let lastInteger = 0;

/** The plain integer at [i, end) of at most `digits` digits; undefined for anything else. */
function integerValue(b: Uint8Array, i: number, end: number, digits: number): number | undefined {
  const from = b[i] === MINUS ? i + 1 : i;
  if (end - from > digits) return undefined;
  let v = 0;
  for (let k = from; k < end; k++) {
    const d = (b[k] as number) - ZERO;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return from === i ? v : -v;
}

/** The number a column takes at [i, end) (`Accept.Int32`, `Integer` or `Number`), or undefined. */
function numeric(b: Uint8Array, i: number, end: number, accept: Accept): number | undefined {
  if (accept === Accept.Number) return decimalValue(b, i, end);
  // Plain integers only: a fraction or an exponent is the general path's to judge (and to retype a schemaless column).
  const v = integerValue(b, i, end, accept === Accept.Int32 ? 10 : 15);
  if (v === undefined || (accept === Accept.Int32 && (v < -2147483648 || v > 2147483647))) return undefined;
  return v;
}

/**
 * Writes one column's value (`["null", T]` union) from the JSON at `i`; returns the end, or -1
 * when the value is not one the general decoder would keep as it is in this column.
 */
function writeValue(b: Uint8Array, i: number, n: number, col: FastColumn, sink: AvroSink, placeholder: Uint8Array): number {
  const c = b[i];
  if (c === 0x6e) {
    const end = literal(b, i, 'null');
    if (end < 0 || !col.optional) return -1;
    sink.ensure(1);
    sink.buf[sink.pos++] = 0;
    return end;
  }
  switch (col.accept) {
    case Accept.String: {
      if (c !== Q) return -1;
      let j = i + 1;
      for (; j < n; j++) {
        const d = b[j] as number;
        if (d === Q) break;
        // Escapes and non-ASCII text take the general path, which decodes them.
        if (d === BS || d < 0x20 || d > 0x7e) return -1;
      }
      if (j >= n) return -1;
      const len = j - i - 1;
      if (len === placeholder.length && isName(b, i + 1, j, placeholder)) return -1;
      sink.ensure(11 + len);
      const out = sink.buf;
      out[sink.pos++] = 2;
      sink.long(len);
      let p = sink.pos;
      for (let k = i + 1; k < j; k++) out[p++] = b[k] as number;
      sink.pos = p;
      return j + 1;
    }
    case Accept.Boolean: {
      const end = c === 0x74 ? literal(b, i, 'true') : literal(b, i, 'false');
      if (end < 0) return -1;
      sink.ensure(2);
      sink.buf[sink.pos++] = 2;
      sink.buf[sink.pos++] = c === 0x74 ? 1 : 0;
      return end;
    }
    case Accept.Null:
      return -1;
    default: {
      const end = numberEnd(b, i);
      const v = end < 0 ? undefined : numeric(b, i, end, col.accept);
      if (v === undefined) return -1;
      sink.ensure(9);
      sink.buf[sink.pos++] = 2;
      if (col.write === Write.Varint) {
        lastInteger = v;
        sink.long(v);
      } else if (col.write === Write.Float64) {
        sink.buf.writeDoubleLE(v, sink.pos);
        sink.pos += 8;
      } else {
        sink.buf.writeFloatLE(v, sink.pos);
        sink.pos += 4;
      }
      return end;
    }
  }
}

/**
 * Writes the row of an `after` object whose members are the layout's columns in order, some
 * perhaps left out (a column dropped at the source stays in the table, null); returns the
 * object's end or -1.
 */
function writeRow(b: Uint8Array, i: number, n: number, layout: FastLayout, key: number, sink: AvroSink, placeholder: Uint8Array): number {
  if (b[i] !== LB) return -1;
  i++;
  const { columns, keyColumn } = layout;
  let first = true;
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c] as FastColumn;
    const m = col.member;
    const at = first ? i : i + 1;
    let here = first || b[i] === COMMA;
    for (let k = 0; k < m.length && here; k++) here = b[at + k] === m[k];
    if (!here) {
      // a missing member is null, which a field that is not optional does not take
      if (c === keyColumn || !col.optional) return -1;
      sink.ensure(1);
      sink.buf[sink.pos++] = 0;
      continue;
    }
    const start = sink.pos;
    i = writeValue(b, at + m.length, n, col, sink, placeholder);
    if (i < 0) return -1;
    // The record key comes from the row: rows whose key column is not the Kafka key's value are the general path's.
    if (c === keyColumn && (sink.buf[start] === 0 || lastInteger !== key)) return -1;
    first = false;
  }
  return b[i] === RB ? i + 1 : -1;
}

/**
 * The members of `source` the general decoder reads (`sourceFacts`: table, position,
 * time, transaction), each with the last string value read for it: these repeat record
 * after record, so equal bytes give the same string without decoding it again.
 */
const SOURCE_NAMES = ['connector', 'db', 'schema', 'table', 'snapshot', 'sequence', 'lsn', 'txId', 'ts_ms', 'file', 'pos', 'row', 'gtid'] as const;
/** `current`: the member's value in the source block read last (undefined when it had none). */
const SOURCE_FIELDS = SOURCE_NAMES.map((name) => ({ name, bytes: encoder.encode(name), last: new Uint8Array(64), lastLength: -1, value: '', current: undefined as unknown }));
const F = Object.fromEntries(SOURCE_FIELDS.map((f) => [f.name, f])) as Record<(typeof SOURCE_NAMES)[number], (typeof SOURCE_FIELDS)[number]>;

/**
 * The source block read last, as `sourceFacts` reads it. Values are kept on their fields and
 * gathered into one object of a fixed shape: stores by a member's name into one shared object
 * were keyed stores of many names at one site, slower than the rest of reading the block.
 */
function sourceObject(): Record<(typeof SOURCE_NAMES)[number], unknown> {
  return {
    connector: F.connector.current, db: F.db.current, schema: F.schema.current, table: F.table.current, snapshot: F.snapshot.current, sequence: F.sequence.current,
    lsn: F.lsn.current, txId: F.txId.current, ts_ms: F.ts_ms.current, file: F.file.current, pos: F.pos.current, row: F.row.current, gtid: F.gtid.current,
  };
}

/** The fields by name length: a member name is compared with those of its length only. */
const FIELDS_BY_LENGTH: (typeof SOURCE_FIELDS)[] = [];
for (const f of SOURCE_FIELDS) (FIELDS_BY_LENGTH[f.bytes.length] ??= []).push(f);

function sourceField(b: Uint8Array, from: number, to: number): (typeof SOURCE_FIELDS)[number] | undefined {
  for (const f of FIELDS_BY_LENGTH[to - from] ?? []) if (isName(b, from, to, f.bytes)) return f;
  return undefined;
}

let UNESCAPED = Buffer.allocUnsafeSlow(64);

/** A string member's value: decoded once per distinct text; escapes as `JSON.parse` reads them. */
function stringValue(b: Uint8Array, i: number, end: number, f: (typeof SOURCE_FIELDS)[number]): string {
  const len = end - i - 2;
  let last = f.last;
  if (f.lastLength === len) {
    let same = true;
    for (let k = 0; k < len && same; k++) same = b[i + 1 + k] === last[k];
    if (same) return f.value;
  }
  // Kept in the field's own buffer: a member that changes every record (`sequence`) costs no allocation for it.
  if (last.length < len) f.last = last = new Uint8Array(len * 2);
  // Unescaped as it is copied while every escape is `\"` (PostgreSQL's `sequence`, `[null,\"64\"]`); any other takes JSON.parse.
  if (UNESCAPED.length < len) UNESCAPED = Buffer.allocUnsafeSlow(len * 2);
  const out = UNESCAPED;
  let m = 0;
  let escaped = false;
  let quotesOnly = true;
  for (let k = 0; k < len; k++) {
    const c = b[i + 1 + k] as number;
    last[k] = c;
    if (c !== BS) out[m++] = c;
    else {
      escaped = true;
      if (b[i + 2 + k] !== Q) quotesOnly = false;
      else {
        last[++k] = Q;
        out[m++] = Q;
      }
    }
  }
  f.lastLength = len;
  f.value = !escaped || quotesOnly ? out.toString('utf8', 0, m) : (JSON.parse(text(b, i, end)) as string);
  return f.value;
}

/** A number member's value as the general decoder reads it (integers beyond 2^53 as bigint). */
function numberValue(b: Uint8Array, i: number, end: number): number | bigint {
  const v = decimalValue(b, i, end);
  if (v !== undefined) return v;
  const big = BigInt(text(b, i, end));
  return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads the `source` object at `i` into its fields' `current` (the members `sourceFacts`
 * reads, valued as `JSON.parse` would give them, the last of repeated names winning); every
 * other member is validated and skipped. Returns the object's end, or -1.
 */
function readSource(b: Uint8Array, i: number, n: number): number {
  for (const f of SOURCE_FIELDS) f.current = undefined;
  if (b[i] !== LB) return -1;
  i++;
  if (b[i] === RB) return i + 1;
  for (;;) {
    const from = i + 1;
    const j = nameEnd(b, i, n);
    if (j < 0) return -1;
    i = j + 2;
    const f = sourceField(b, from, j);
    const end = skipValue(b, i, n);
    if (end < 0) return -1;
    if (f !== undefined) {
      const c = b[i];
      f.current = c === Q ? stringValue(b, i, end, f) : c === 0x6e ? null : c === 0x74 ? true : c === 0x66 ? false : c === LB || c === LS ? JSON.parse(text(b, i, end)) : numberValue(b, i, end);
    }
    i = end;
    if (b[i] === COMMA) i++;
    else return b[i] === RB ? i + 1 : -1;
  }
}

const placeholders = new WeakMap<DecodeContext, Uint8Array>();

function placeholderOf(ctx: DecodeContext): Uint8Array {
  let p = placeholders.get(ctx);
  if (p === undefined) placeholders.set(ctx, (p = encoder.encode(ctx.env.codecOpts.placeholder)));
  return p;
}

/**
 * Reads a record by the fast path, appending its row's Avro encoding (the table schema's
 * columns, nothing else) to `sink`; undefined when the general decoder must read it. On
 * undefined, `sink` may hold a partial row: the caller rewinds it.
 */
export function decodeFast(rec: KafkaRecordIn, ctx: DecodeContext, sink: AvroSink): FastChange | undefined {
  const env = ctx.env;
  const layout = env.fast.get(rec.topic);
  if (layout === undefined || rec.value === null || rec.key === null || env.opts.format === 'avro') return undefined;
  const value = asBuffer(rec.value);
  let key = asBuffer(rec.key);
  let start = 0;
  let end = value.length;
  if (layout.codec !== undefined) {
    // JSON with schema: the value's and the key's schemas must be those the layout was learned from
    const seen = layout.seen;
    const spans = envelopeSpans(value, seen?.value);
    const keySpans = envelopeSpans(key, seen?.key);
    if (spans === null || keySpans === null) return undefined;
    const valueSchema = envelopeSchema(value, spans);
    const keySchema = envelopeSchema(key, keySpans);
    if (!spans.known || !keySpans.known) {
      const shape = ctx.schemaForBytes(valueSchema).shape;
      if (shape === undefined || shape instanceof DecodeFailure || shape.row !== layout.codec || ctx.schemaForBytes(keySchema).key !== layout.keyCodec) return undefined;
      layout.seen = { value: Buffer.from(valueSchema), key: Buffer.from(keySchema) };
    }
    key = key.subarray(keySpans.payloadStart, keySpans.payloadEnd);
    start = spans.payloadStart;
    end = spans.payloadEnd;
  }
  const tracker = env.tracker;
  if (tracker === undefined || tracker.schemaOf(layout.table) !== layout.schema || tracker.quarantineReason(layout.table) !== undefined) return undefined;
  const id = flatIntKeyOf(key, layout.keyFields[0] as string);
  if (typeof id !== 'number' || (layout.keyInt32 === true && (id < -2147483648 || id > 2147483647))) return undefined;
  return readChange(value, start, end, layout, id, layout.codec === undefined, ctx, sink);
}

/** The change in `b`'s [start, end): the Debezium envelope `{"before":…,"after":…,"source":…,"op":…}`. */
function readChange(b: Buffer, start: number, n: number, layout: FastLayout, key: number, schemaless: boolean, ctx: DecodeContext, sink: AvroSink): FastChange | undefined {
  if (b[start] !== LB) return undefined;
  let i = start + 1;
  let op: FastChange['op'] | undefined;
  let source: unknown;
  let after = false;
  let seenSource = false;
  let seenTx = false;
  for (let first = true; ; first = false) {
    const from = i + 1;
    const j = nameEnd(b, i, n);
    if (j < 0) return undefined;
    i = j + 2;
    if (isName(b, from, j, NAMES.after)) {
      if (after) return undefined;
      after = true;
      i = writeRow(b, i, n, layout, key, sink, placeholderOf(ctx));
    } else if (isName(b, from, j, NAMES.source)) {
      if (seenSource) return undefined;
      seenSource = true;
      i = readSource(b, i, n);
      if (i >= 0) source = sourceObject();
    } else if (isName(b, from, j, NAMES.op)) {
      if (op !== undefined || b[i] !== Q || b[i + 2] !== Q) return undefined;
      const c = b[i + 1];
      op = c === 0x63 ? 'c' : c === 0x75 ? 'u' : c === 0x72 ? 'r' : undefined;
      if (op === undefined) return undefined;
      i += 3;
    } else if (isName(b, from, j, NAMES.transaction)) {
      // A transaction block can name the transaction: the general path reads it.
      if (seenTx) return undefined;
      seenTx = true;
      i = literal(b, i, 'null');
    } else {
      // a schemaless `{"schema":…,"payload":…}` is an envelope, whatever else it holds
      if (schemaless && first && isName(b, from, j, NAMES.schema)) return undefined;
      i = skipValue(b, i, n);
    }
    if (i < 0) return undefined;
    if (b[i] === COMMA) i++;
    else if (b[i] === RB && i + 1 === n) break;
    else return undefined;
  }
  if (!after || op === undefined || !seenSource) return undefined;
  let facts;
  try {
    facts = sourceFacts(op, source, null, ctx.env);
  } catch {
    return undefined;
  }
  if (facts.names.id !== layout.table || facts.position.unordered === true) return undefined;
  return { table: layout.table, op, key, keyFields: layout.keyFields, position: facts.position, sourceTsMs: facts.sourceTsMs, txId: facts.txId, schema: layout.schema, size: n - start };
}
