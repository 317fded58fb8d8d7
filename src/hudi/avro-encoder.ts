/**
 * A per-schema compiled Avro binary encoder for log-block records: one closure per field,
 * writing straight into one growing buffer (no per-record Buffer, no value copies). It
 * produces the same bytes as avsc for every value avsc accepts under the Value contract;
 * when a value does not fit the fast path (`Mismatch`), the caller re-encodes that one
 * record with avsc, which either encodes it or throws the error naming the field.
 */
import type { Value } from '../table/schema.js';
import { Unsupported, fullName, orUnsupported } from './avro-compile.js';
import { decimalToBytes } from './avro-value.js';

/** Thrown by a compiled encoder when a value is outside its fast path; never escapes this layer. */
export class Mismatch extends Error {
  override readonly name = 'Mismatch';
}
const MISMATCH = new Mismatch('value outside the compiled Avro encoder');

// Little-endian scratch for doubles (Avro's byte order; x64/arm64 are little-endian, as Arrow also assumes).
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);

/** Growing output buffer with Avro primitive writers. */
export class AvroSink {
  buf: Buffer;
  pos = 0;

  /** `capacity`: the expected size, so a block whose size is known roughly is not grown by doubling. */
  constructor(capacity = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int32BE(n: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4;
  }

  /** Zig-zag varint of a safe integer (exact up to |n| < 2^52; callers route larger values to `bigLong`). */
  long(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (n >= -0x40000000 && n < 0x40000000) {
      let z = (n << 1) ^ (n >> 31);
      while ((z & ~0x7f) !== 0) {
        buf[pos++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      buf[pos++] = z;
    } else {
      let z = n >= 0 ? n * 2 : -n * 2 - 1;
      while (z >= 0x80) {
        buf[pos++] = (z % 0x80) | 0x80;
        z = Math.floor(z / 0x80);
      }
      buf[pos++] = z;
    }
    this.pos = pos;
  }

  bigLong(v: bigint): void {
    const z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    // The zig-zag value as two 32-bit halves, then varint bytes by number arithmetic: BigInt
    // shifts allocated a value per byte (most orderings, 63-bit positions, take this path).
    let lo = Number(z & 0xffffffffn);
    let hi = Number(z >> 32n);
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0 || lo >= 0x80) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  string(s: string): void {
    const n = s.length;
    if (n < 64) {
      // ASCII fast path: one-byte length, bytes copied from char codes.
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n << 1;
        this.pos = start + n;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.long(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  bytes(b: Uint8Array): void {
    this.long(b.byteLength);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  double(v: number): void {
    this.ensure(8);
    F64[0] = v;
    const buf = this.buf;
    const p = this.pos;
    for (let i = 0; i < 8; i++) buf[p + i] = F64_BYTES[i] as number;
    this.pos = p + 8;
  }

  float(v: number): void {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
  }

  byte(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  bytesView(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export type Encode = (sink: AvroSink, v: Value | undefined) => void;

type Schema = unknown;

const MAX_FAST_LONG = 2 ** 52;

function encodeLong(s: AvroSink, v: Value | undefined): void {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v > -MAX_FAST_LONG && v < MAX_FAST_LONG) return s.long(v);
    if (!Number.isSafeInteger(v)) throw MISMATCH;
    return s.bigLong(BigInt(v));
  }
  if (typeof v === 'bigint') {
    if (v > -0x40000000n && v < 0x40000000n) return s.long(Number(v));
    if (v < -(1n << 63n) || v >= 1n << 63n) throw MISMATCH;
    return s.bigLong(v);
  }
  throw MISMATCH;
}

function encodeInt(s: AvroSink, v: Value | undefined): void {
  if (typeof v !== 'number' || (v | 0) !== v) throw MISMATCH;
  s.long(v);
}

/**
 * "123.45" at scale 2 → 12345 without regexes or allocation, when at most 15 digits (exact as a
 * double); undefined sends the value to the exact BigInt path (more digits, spaces, exponents).
 */
function smallUnscaled(text: string, scale: number): number | undefined {
  const n = text.length;
  let i = 0;
  let neg = false;
  const first = text.charCodeAt(0);
  if (first === 45) {
    neg = true;
    i = 1;
  } else if (first === 43) i = 1;
  let v = 0;
  let digits = 0;
  let frac = -1;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (frac >= 0) return undefined;
      frac = 0;
      continue;
    }
    if (c < 48 || c > 57 || frac === scale || ++digits > 15) return undefined;
    if (frac >= 0) frac++;
    v = v * 10 + (c - 48);
  }
  if (digits === 0) return undefined;
  for (let k = frac < 0 ? 0 : frac; k < scale; k++) v *= 10;
  if (v > Number.MAX_SAFE_INTEGER) return undefined;
  return neg && v !== 0 ? -v : v;
}

/** Bytes Java's BigInteger.toByteArray gives a safe integer: minimal two's-complement length. */
function unscaledLength(u: number): number {
  let len = 1;
  let lim = 128;
  while (u < -lim || u >= lim) {
    len++;
    lim *= 256;
  }
  return len;
}

/** Writes `len` big-endian two's-complement bytes of safe integer `u` (len ≤ 8). */
function writeUnscaled(s: AvroSink, u: number, len: number): void {
  s.ensure(len);
  let x = u < 0 ? 2 ** (8 * len) + u : u;
  const buf = s.buf;
  for (let i = s.pos + len - 1; i >= s.pos; i--) {
    buf[i] = x % 256;
    x = Math.floor(x / 256);
  }
  s.pos += len;
}

function decimalEncoder(scale: number, fixedSize: number | undefined): Encode {
  return (s, v) => {
    let text: string;
    if (typeof v === 'string') text = v;
    else if (typeof v === 'number' && Number.isFinite(v)) text = v.toFixed(scale);
    else throw MISMATCH;
    const small = smallUnscaled(text, scale);
    if (small !== undefined) {
      const len = unscaledLength(small);
      if (fixedSize === undefined) {
        s.long(len);
        return writeUnscaled(s, small, len);
      }
      if (len <= fixedSize) {
        // Sign-extend to the fixed size, as avsc's fixed decimal does.
        s.ensure(fixedSize - len);
        s.buf.fill(small < 0 ? 0xff : 0, s.pos, s.pos + fixedSize - len);
        s.pos += fixedSize - len;
        return writeUnscaled(s, small, len);
      }
      throw MISMATCH;
    }
    let bytes: Uint8Array;
    try {
      bytes = decimalToBytes(text, scale);
    } catch {
      throw MISMATCH; // avsc re-encodes the record and reports the field
    }
    if (fixedSize === undefined) return s.bytes(bytes);
    if (bytes.length > fixedSize) throw MISMATCH;
    const out = new Uint8Array(fixedSize).fill((bytes[0] as number) & 0x80 ? 0xff : 0);
    out.set(bytes, fixedSize - bytes.length);
    s.raw(out);
  };
}

/** Named types seen so far (records, fixed, enums may be referenced by name later in the schema). */
type Named = Map<string, () => Encode>;


/**
 * Compiles an encoder for `schema`, or undefined when the schema uses something the fast
 * path does not cover (general unions), so callers use avsc for every record.
 */
export function compileEncoder(schema: Schema): Encode | undefined {
  return orUnsupported(() => compile(schema, new Map(), undefined));
}


interface FieldEncoder {
  name: string;
  type: Schema;
  enc: Encode;
  hasDefault: boolean;
  def: Value | undefined;
}

function fieldEncoders(fields: { name: string; type: Schema; default?: unknown }[], named: Named, ns: string | undefined): FieldEncoder[] {
  return fields.map((f) => ({ name: f.name, type: f.type, enc: compile(f.type, named, ns), hasDefault: 'default' in f, def: f.default as Value | undefined }));
}

/**
 * Encodes every row as one record, each preceded by its byte length as a big-endian int32
 * (the framing of Hudi's Avro data blocks). A field's values may come from a side column
 * (`columns[field position][row index]`) instead of the rows, so callers add the `_hoodie_*`
 * fields without copying rows. A row outside the fast path (`Mismatch`) is handed to
 * `fallback`, which writes its datum at the sink's position.
 */
export type FramedEncoder = (
  sink: AvroSink,
  rows: readonly { readonly [k: string]: Value }[],
  columns: readonly (readonly Value[] | undefined)[],
  fallback: (sink: AvroSink, i: number) => void,
) => void;

export interface CompiledRecord {
  fieldNames: readonly string[];
  encodeFramed: FramedEncoder;
}

/** Like compileEncoder for a record schema, as a framed encoder of many rows; `columns` passed to `encodeFramed` are by field position. */
export function compileRecord(schema: Schema): CompiledRecord | undefined {
  try {
    const o = schema as { type?: unknown; name?: string; namespace?: string; fields?: { name: string; type: Schema; default?: unknown }[] };
    if (typeof o !== 'object' || o === null || o.type !== 'record' || !Array.isArray(o.fields)) return undefined;
    const named: Named = new Map();
    const name = fullName(o.name ?? '', o.namespace);
    let self: Encode | undefined;
    named.set(name, () => self as Encode);
    const inner = o.namespace ?? (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined);
    const fields = fieldEncoders(o.fields, named, inner);
    self = recordEncode(fields);
    return { fieldNames: fields.map((f) => f.name), encodeFramed: framedEncoder(fields) };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/**
 * The framed encoder, generated with the field names written in (`row.id`, not `row[name]`):
 * every row has the same shape, so each read stays monomorphic where a keyed read by name was
 * megamorphic (a third of a log block's encode time), and the loop over rows is inside the
 * generated code, so the side columns are looked up once per block, not once per row. Names
 * that Object.prototype has (`constructor`, `__proto__`) are read only as the row's own, so a
 * row without them gets the default.
 */
function framedEncoder(fields: readonly FieldEncoder[]): FramedEncoder {
  const body = fields
    .map((f, k) => {
      const name = JSON.stringify(f.name);
      const read = f.name in Object.prototype ? `(Object.hasOwn(row, ${name}) ? row[${name}] : undefined)` : `row[${name}]`;
      const missing = f.hasDefault ? `x = f[${k}].def;` : 'throw MISMATCH;';
      return `x = c${k} === undefined ? ${read} : c${k}[i]; if (x === undefined) ${missing} ${inlineEncode(f.type, k)}`;
    })
    .join('\n');
  const encoders = fields.map((_f, k) => `const e${k} = f[${k}].enc;`).join(' ');
  const columns = fields.map((_f, k) => `c${k} = columns[${k}]`).join(', ');
  return new Function(
    'f',
    'Mismatch',
    'MISMATCH',
    'encodeLong',
    'encodeInt',
    `${encoders}
return function encodeFramed(s, rows, columns, fallback) {
  const ${columns};
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    s.ensure(4);
    const at = s.pos;
    s.pos = at + 4;
    try {
      let x;
${body}
    } catch (e) {
      if (!(e instanceof Mismatch)) throw e;
      s.pos = at + 4;
      fallback(s, i);
    }
    s.buf.writeInt32BE(s.pos - at - 4, at);
  }
};`,
  )(fields, Mismatch, MISMATCH, encodeLong, encodeInt) as FramedEncoder;
}

/** Generated code writing `x` of a field of type `type` (encoder `e<k>`): nullable primitives, the usual CDC column, inline. */
function inlineEncode(type: Schema, k: number): string {
  const primitive: Record<string, string> = {
    string: "if (typeof x !== 'string') throw MISMATCH; s.string(x);",
    long: 'encodeLong(s, x);',
    int: 'encodeInt(s, x);',
    double: "if (typeof x !== 'number') throw MISMATCH; s.double(x);",
    boolean: "if (typeof x !== 'boolean') throw MISMATCH; s.byte(x ? 1 : 0);",
  };
  if (Array.isArray(type) && type.length === 2) {
    const nullAt = type.indexOf('null');
    const other = type[1 - nullAt];
    if (nullAt >= 0 && typeof other === 'string' && Object.hasOwn(primitive, other)) {
      return `if (x === null) s.byte(${nullAt << 1}); else { s.byte(${(1 - nullAt) << 1}); ${primitive[other]} }`;
    }
  }
  return `e${k}(s, x);`;
}

function recordEncode(fields: FieldEncoder[]): Encode {
  // As in framedEncoder: names Object.prototype has are read only as the record's own.
  const ownOnly = fields.map((f) => f.name in Object.prototype);
  return (s, v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw MISMATCH;
    const rec = v as { [k: string]: Value };
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k] as FieldEncoder;
      let x = ownOnly[k] && !Object.hasOwn(rec, f.name) ? undefined : rec[f.name];
      if (x === undefined) {
        if (!f.hasDefault) throw MISMATCH;
        x = f.def;
      }
      f.enc(s, x);
    }
  };
}

function compile(schema: Schema, named: Named, ns: string | undefined): Encode {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return (_s, v) => {
          if (v !== null && v !== undefined) throw MISMATCH;
        };
      case 'boolean':
        return (s, v) => {
          if (typeof v !== 'boolean') throw MISMATCH;
          s.byte(v ? 1 : 0);
        };
      case 'int':
        return encodeInt;
      case 'long':
        return encodeLong;
      case 'float':
        return (s, v) => {
          if (typeof v !== 'number') throw MISMATCH;
          s.float(v);
        };
      case 'double':
        return (s, v) => {
          if (typeof v !== 'number') throw MISMATCH;
          s.double(v);
        };
      case 'string':
        return (s, v) => {
          if (typeof v !== 'string') throw MISMATCH;
          s.string(v);
        };
      case 'bytes':
        return (s, v) => {
          if (!(v instanceof Uint8Array)) throw MISMATCH;
          s.bytes(v);
        };
      default: {
        const ref = named.get(fullName(schema, ns)) ?? named.get(schema);
        if (ref === undefined) throw new Unsupported(schema);
        return (s, v) => ref()(s, v);
      }
    }
  }
  if (Array.isArray(schema)) return compileUnion(schema, named, ns);
  if (typeof schema !== 'object' || schema === null) throw new Unsupported(String(schema));
  const o = schema as { type: unknown; logicalType?: unknown; scale?: number; size?: number; name?: string; namespace?: string; fields?: { name: string; type: Schema; default?: unknown }[]; items?: Schema; values?: Schema; symbols?: string[] };
  if (o.logicalType === 'decimal' && (o.type === 'bytes' || o.type === 'fixed')) {
    const enc = decimalEncoder(o.scale ?? 0, o.type === 'fixed' ? o.size : undefined);
    if (o.type === 'fixed' && o.name) named.set(fullName(o.name, o.namespace ?? ns), () => enc);
    return enc;
  }
  switch (o.type) {
    case 'record':
    case 'error': {
      const name = fullName(o.name ?? '', o.namespace ?? ns);
      let self: Encode | undefined;
      named.set(name, () => self as Encode);
      const inner = o.namespace ?? (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : ns);
      self = recordEncode(fieldEncoders(o.fields ?? [], named, inner));
      return self;
    }
    case 'array': {
      const item = compile(o.items, named, ns);
      return (s, v) => {
        if (!Array.isArray(v)) throw MISMATCH;
        if (v.length > 0) {
          s.long(v.length);
          for (const x of v) item(s, x);
        }
        s.long(0);
      };
    }
    case 'map': {
      const val = compile(o.values, named, ns);
      return (s, v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw MISMATCH;
        const keys = Object.keys(v);
        if (keys.length > 0) {
          s.long(keys.length);
          for (const k of keys) {
            s.string(k);
            val(s, (v as { [k: string]: Value })[k]);
          }
        }
        s.long(0);
      };
    }
    case 'enum': {
      const index = new Map((o.symbols ?? []).map((x, i) => [x, i]));
      const enc: Encode = (s, v) => {
        const i = typeof v === 'string' ? index.get(v) : undefined;
        if (i === undefined) throw MISMATCH;
        s.long(i);
      };
      if (o.name) named.set(fullName(o.name, o.namespace ?? ns), () => enc);
      return enc;
    }
    case 'fixed': {
      const size = o.size ?? 0;
      const enc: Encode = (s, v) => {
        if (!(v instanceof Uint8Array) || v.byteLength !== size) throw MISMATCH;
        s.raw(v);
      };
      if (o.name) named.set(fullName(o.name, o.namespace ?? ns), () => enc);
      return enc;
    }
    default:
      // `{"type": "long", "logicalType": ...}` and other annotated primitives encode as the primitive.
      if (typeof o.type === 'string' || (typeof o.type === 'object' && o.type !== null)) return compile(o.type, named, ns);
      throw new Unsupported(JSON.stringify(schema));
  }
}

/** Only `[null, T]` / `[T, null]` / `[T]`: avsc unwraps those; wider unions take avsc's wrapped-union rules. */
function compileUnion(branches: Schema[], named: Named, ns: string | undefined): Encode {
  const nullAt = branches.indexOf('null');
  const others = branches.map((b, i) => [b, i] as const).filter(([b]) => b !== 'null');
  if (others.length > 1 || branches.length > 2) throw new Unsupported('union');
  if (others.length === 0) return (s, v) => {
    if (v !== null && v !== undefined) throw MISMATCH;
    s.long(nullAt);
  };
  const [branch, at] = others[0] as readonly [Schema, number];
  const enc = compile(branch, named, ns);
  if (nullAt < 0) return (s, v) => {
    s.long(at);
    enc(s, v);
  };
  return (s, v) => {
    if (v === null || v === undefined) {
      s.byte(nullAt << 1);
      return;
    }
    s.byte(at << 1);
    enc(s, v);
  };
}
