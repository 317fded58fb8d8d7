/**
 * Value conversions from Debezium wire values (JsonConverter JSON or Avro) to the in-memory
 * `Value` contract of `src/table/schema.ts`. Each accepts both wire forms: JSON gives base64
 * strings and numbers/bigints, Avro gives Buffers and numbers/bigints.
 */
import type { Value } from '../table/schema.js';
import { fail } from './invalid-record.js';

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}`;
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function mismatch(path: string, expected: string, v: unknown): never {
  return fail('type-mismatch', `field ${path} expects ${expected}, got ${show(v)}`);
}

export function toInt(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
  return mismatch(path, 'a 32-bit integer', v);
}

/** int64: number while exact, bigint beyond 2^53. */
export function toLong(v: unknown, path: string): number | bigint {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return v;
    return mismatch(path, 'an integer', v);
  }
  if (typeof v === 'bigint') {
    if (v >= -MAX_SAFE && v <= MAX_SAFE) return Number(v);
    if (v >= -(1n << 63n) && v < 1n << 63n) return v;
    return mismatch(path, 'a 64-bit integer', v);
  }
  return mismatch(path, 'an integer', v);
}

export function toBigLong(v: unknown, path: string): bigint {
  const n = toLong(v, path);
  return typeof n === 'bigint' ? n : BigInt(n);
}

export function toDouble(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  // JsonConverter writes non-finite floats as strings.
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return mismatch(path, 'a number', v);
}

export function toBool(v: unknown, path: string): boolean {
  if (typeof v === 'boolean') return v;
  return mismatch(path, 'a boolean', v);
}

export function toStr(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  return mismatch(path, 'a string', v);
}

export function toBytes(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string' && BASE64_RE.test(v)) return Buffer.from(v, 'base64');
  return mismatch(path, 'bytes (base64)', v);
}

export function fromHex(v: unknown, path: string): Uint8Array {
  if (typeof v === 'string' && v.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(v)) return Buffer.from(v, 'hex');
  return mismatch(path, 'bytes (hex)', v);
}

/** Big-endian two's-complement bytes → bigint. */
export function unscaledFromBytes(b: Uint8Array): bigint {
  if (b.length === 0) return 0n;
  if (b.length <= 6) return BigInt(smallUnscaled(b));
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  if ((b[0] as number) & 0x80) n -= 1n << BigInt(b.length * 8);
  return n;
}

/** Up to 6 bytes fit a double exactly: no BigInt on the common path. */
function smallUnscaled(b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) n = n * 256 + (b[i] as number);
  if ((b[0] as number) & 0x80) n -= 2 ** (b.length * 8);
  return n;
}

/** Unscaled integer + scale → exact decimal text with exactly `scale` fraction digits. */
export function formatDecimal(unscaled: bigint | number, scale: number): string {
  const neg = unscaled < 0;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-scale);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  const cut = digits.length - scale;
  return `${neg ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/** Connect Decimal: base64/Buffer unscaled bytes, or a JSON number (decimal.format=NUMERIC). */
export function toDecimal(v: unknown, scale: number, path: string): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return mismatch(path, `a decimal(scale ${scale})`, v);
    return v.toFixed(scale);
  }
  if (typeof v === 'bigint') return formatDecimal(v * 10n ** BigInt(scale), scale);
  const b = toBytes(v, path);
  return formatDecimal(b.length <= 6 ? smallUnscaled(b) : unscaledFromBytes(b), scale);
}

/** VariableScaleDecimal struct `{scale, value}` → exact text (scale carried in the value). */
export function toVariableDecimal(v: unknown, path: string): string {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return mismatch(path, 'a {scale, value} struct', v);
  const o = v as Record<string, unknown>;
  const scale = toInt(o['scale'], `${path}.scale`);
  const b = toBytes(o['value'], `${path}.value`);
  return formatDecimal(b.length <= 6 ? smallUnscaled(b) : unscaledFromBytes(b), scale);
}

/** Point {x, y} without WKB → little-endian WKB Point (21 bytes). */
function pointWkb(x: number, y: number): Uint8Array {
  const b = Buffer.alloc(21);
  b.writeUInt8(1, 0);
  b.writeUInt32LE(1, 1);
  b.writeDoubleLE(x, 5);
  b.writeDoubleLE(y, 13);
  return b;
}

/** Geometry / Geography / Point struct → `{wkb, srid}`. */
export function toGeometry(v: unknown, path: string): { [k: string]: Value } {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array || Array.isArray(v)) return mismatch(path, 'a geometry struct', v);
  const o = v as Record<string, unknown>;
  const srid = o['srid'] === null || o['srid'] === undefined ? null : toInt(o['srid'], `${path}.srid`);
  let wkb: Uint8Array | null = null;
  if (o['wkb'] !== null && o['wkb'] !== undefined) wkb = toBytes(o['wkb'], `${path}.wkb`);
  else if (o['x'] !== undefined && o['y'] !== undefined) wkb = pointWkb(toDouble(o['x'], `${path}.x`), toDouble(o['y'], `${path}.y`));
  return { wkb, srid };
}
