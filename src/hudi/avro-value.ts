/**
 * avsc types that follow the `Value` contract of `src/table/schema.ts`: longs decode to
 * number when safe and bigint beyond 2^53 (never rounded), decimals are exact strings.
 */
import avro from 'avsc';
import type { Value } from '../table/schema.js';

const TWO_63 = 1n << 63n;

function toBigInt(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new TypeError(`long value ${String(v)} is not an integer`);
}

/** Long whose in-memory form is number (safe range) or bigint; the wire form is Avro zig-zag varint. */
const ExactLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): number | bigint => {
    // Fast path without BigInt when the value fits in 53 bits (|hi| < 2^21).
    const hi = buf.readInt32LE(4);
    if (hi >= -0x200000 && hi < 0x200000) return hi * 0x100000000 + buf.readUInt32LE(0);
    const n = buf.readBigInt64LE();
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  },
  toBuffer: (v: number | bigint): Buffer => {
    const b = Buffer.alloc(8);
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      const hi = Math.floor(v / 0x100000000);
      b.writeUInt32LE(v - hi * 0x100000000, 0);
      b.writeInt32LE(hi, 4);
    } else {
      b.writeBigInt64LE(toBigInt(v));
    }
    return b;
  },
  fromJSON: (v: unknown): number | bigint => (typeof v === 'string' ? BigInt(v) : Number(v)),
  toJSON: (v: number | bigint): number | string => (typeof v === 'bigint' ? v.toString() : v),
  isValid: (v: unknown): boolean =>
    (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'bigint' && v >= -TWO_63 && v < TWO_63),
  compare: (a: number | bigint, b: number | bigint): number => {
    const x = toBigInt(a);
    const y = toBigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  },
});

export class DecimalError extends Error {
  override readonly name = 'DecimalError';
}

/** Exact decimal text (e.g. "-19.90") ↔ two's-complement big-endian unscaled bytes. */
export function decimalToBytes(text: string, scale: number): Buffer {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new DecimalError(`decimal value "${text}" is not a plain decimal number`);
  const frac = m[3] ?? '';
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
    throw new DecimalError(`decimal value "${text}" has more than ${scale} fractional digits; round it before writing`);
  }
  let unscaled = BigInt((m[2] || '0') + frac.slice(0, scale).padEnd(scale, '0'));
  if (m[1] === '-') unscaled = -unscaled;
  // Minimal two's-complement length, as Java's BigInteger.toByteArray.
  let len = 1;
  while (unscaled < -(1n << BigInt(8 * len - 1)) || unscaled >= 1n << BigInt(8 * len - 1)) len++;
  let u = unscaled < 0n ? (1n << BigInt(8 * len)) + unscaled : unscaled;
  const out = Buffer.alloc(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

export function bytesToDecimal(bytes: Uint8Array, scale: number): string {
  if (bytes.length === 0) return scale > 0 ? '0.' + '0'.repeat(scale) : '0';
  const negative = ((bytes[0] as number) & 0x80) !== 0;
  let magnitude: string;
  if (bytes.length <= 6) {
    // Up to 48 bits fits a double exactly: most prices and amounts, without a BigInt per byte.
    let u = 0;
    for (const b of bytes) u = u * 256 + b;
    if (negative) u -= 2 ** (8 * bytes.length);
    magnitude = String(Math.abs(u));
  } else {
    let u = 0n;
    for (const b of bytes) u = (u << 8n) | BigInt(b);
    if (negative) u -= 1n << BigInt(8 * bytes.length);
    magnitude = (u < 0n ? -u : u).toString();
  }
  const digits = magnitude.padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return (negative ? '-' : '') + int + (scale > 0 ? '.' + frac : '');
}

class DecimalType extends avro.types.LogicalType {
  private readonly scale: number;
  /** Set when the decimal is carried by an Avro `fixed` (Spark writes those): bytes are sign-extended to it. */
  private readonly size: number | undefined;
  constructor(attrs: avro.Schema, opts?: object) {
    super(attrs, opts);
    const a = attrs as { scale?: number; type?: string; size?: number };
    this.scale = a.scale ?? 0;
    this.size = a.type === 'fixed' ? a.size : undefined;
  }
  override _fromValue(v: Buffer): string {
    return bytesToDecimal(v, this.scale);
  }
  override _toValue(v: unknown): Buffer | undefined {
    let b: Buffer;
    if (typeof v === 'string') b = decimalToBytes(v, this.scale);
    else if (typeof v === 'number' && Number.isFinite(v)) b = decimalToBytes(v.toFixed(this.scale), this.scale);
    else return undefined;
    if (this.size === undefined) return b;
    if (b.length > this.size) throw new DecimalError(`decimal value ${String(v)} needs ${b.length} bytes but the fixed type has ${this.size}`);
    const out = Buffer.alloc(this.size, (b[0] as number) & 0x80 ? 0xff : 0);
    b.copy(out, this.size - b.length);
    return out;
  }
  override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    return avro.Type.isType(type, 'logical:decimal') ? (x: unknown) => x : undefined;
  }
}

/**
 * Parses an Avro schema (object or JSON) into an avsc type using the Value contract;
 * `named` receives the schema's named types by full name.
 */
export function avroType(schema: unknown, named: Record<string, avro.Type> = {}): avro.Type {
  const parsed: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  return avro.Type.forSchema(parsed as avro.Schema, {
    registry: Object.assign(named, { long: ExactLong }),
    logicalTypes: { decimal: DecimalType },
    wrapUnions: 'auto',
    // `{"type": "long", ...}` objects (timestamp-micros, nano-timestamp longs) must be exact longs too;
    // the registry above only replaces the bare name "long".
    typeHook: (s: avro.Schema) => (isLongObject(s) ? ExactLong : undefined),
  });
}

function isLongObject(s: avro.Schema): boolean {
  return typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'long';
}

/** avsc wants Buffers for `bytes`; the Value contract allows any Uint8Array. */
function toAvsc(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(toAvsc);
  if (Object.getPrototypeOf(v) !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toAvsc(x);
  return out;
}

/** Encodes one datum; the error names the offending field path. */
export function encodeDatum(type: avro.Type, input: unknown, what: string): Buffer {
  const value = toAvsc(input);
  try {
    return type.toBuffer(value);
  } catch {
    // Only on failure: find the offending fields for the message.
    const paths: string[] = [];
    type.isValid(value, { errorHook: (p: string[]) => paths.push(p.join('.')) });
    throw new TypeError(`${what}: value does not match the Avro schema at field(s) ${paths.join(', ') || '(root)'}`);
  }
}

/** avsc gives record-class instances and Buffers; the Value contract wants plain objects and Uint8Arrays. */
export function toPlain(v: unknown): Value {
  if (v === null || typeof v !== 'object') return v as Value;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(toPlain);
  const out: { [k: string]: Value } = {};
  for (const [k, x] of Object.entries(v)) out[k] = toPlain(x);
  return out;
}

export function decodeDatum(type: avro.Type, bytes: Uint8Array): Value {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return toPlain(type.fromBuffer(buf));
}
