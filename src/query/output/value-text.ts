/**
 * Column values → their text in query output, following the JSONL value
 * conventions of design.md §5 and the shared type contract: int64 with exact
 * digits, decimals as strings with their scale, dates/times/timestamps as ISO
 * text at the source precision, bytes as base64, arrays as arrays.
 *
 * A formatter is compiled once per column type and applied to every row.
 * Values that do not match their column type (schemaless input) are written
 * as they are rather than rejected, so output never fails on data.
 */
import { nonNull, type AvroType, type Value } from '../../table/schema.js';

export type JsonFormatter = (v: Value | undefined) => string;

/** What one column's values mean, derived from its Avro type and `cdc.semantic`. */
export type ValueKind =
  | { k: 'string' | 'int' | 'long' | 'double' | 'float' | 'boolean' | 'bytes' | 'number' }
  | { k: 'decimal'; scale: number }
  | { k: 'date' }
  | { k: 'time'; unitsPerSecond: number; digits: number }
  | { k: 'timestamp'; unitsPerSecond: number; digits: number }
  | { k: 'array'; items: ValueKind }
  | { k: 'record'; fields: Array<{ name: string; kind: ValueKind }> }
  | { k: 'any' };

const MILLI = { unitsPerSecond: 1000, digits: 3 };
const MICRO = { unitsPerSecond: 1_000_000, digits: 6 };
const NANO = { unitsPerSecond: 1_000_000_000, digits: 9 };

export function valueKind(type: AvroType): ValueKind {
  let t: AvroType;
  try {
    t = nonNull(type);
  } catch {
    return { k: 'any' };
  }
  if (typeof t === 'string') return primitiveKind(t);
  if (Array.isArray(t)) return { k: 'any' };
  if (t.type === 'array') return { k: 'array', items: valueKind(t.items) };
  if (t.type === 'record') return { k: 'record', fields: t.fields.map((f) => ({ name: f.name, kind: valueKind(f.type) })) };
  const logical = 'logicalType' in t ? (t.logicalType as string) : undefined;
  const semantic = (t as { 'cdc.semantic'?: string })['cdc.semantic'];
  switch (logical) {
    case 'date':
      return { k: 'date' };
    case 'time-millis':
      return { k: 'time', ...MILLI };
    case 'time-micros':
      return { k: 'time', ...MICRO };
    case 'timestamp-millis':
      return { k: 'timestamp', ...MILLI };
    case 'timestamp-micros':
      return { k: 'timestamp', ...MICRO };
    case 'decimal':
      return { k: 'decimal', scale: (t as { scale?: number }).scale ?? 0 };
  }
  switch (semantic) {
    case 'nano-time':
      return { k: 'time', ...NANO };
    case 'nano-timestamp':
      return { k: 'timestamp', ...NANO };
  }
  return typeof t.type === 'string' ? primitiveKind(t.type) : { k: 'any' };
}

function primitiveKind(name: string): ValueKind {
  switch (name) {
    case 'string':
    case 'int':
    case 'long':
    case 'double':
    case 'float':
    case 'boolean':
    case 'bytes':
      return { k: name };
    case 'null':
      return { k: 'any' };
    default:
      return { k: 'any' };
  }
}

// ---------------------------------------------------------------------------------------------
// Scalars → text (unquoted); JSON quoting is added by the JSON formatter for string-valued kinds.

export function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/**
 * Splits `v` (in `ups` units per second) into whole seconds and the fraction,
 * flooring so instants before the epoch count back. Exact for bigints and for
 * safe-integer numbers (float division is corrected by one step if it rounded).
 */
function splitSeconds(v: number | bigint, ups: number): [number, number] {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    let sec = Math.floor(v / ups);
    let frac = v - sec * ups;
    if (frac < 0) {
      sec -= 1;
      frac += ups;
    } else if (frac >= ups) {
      sec += 1;
      frac -= ups;
    }
    return [sec, frac];
  }
  const b = BigInt(v);
  const u = BigInt(ups);
  let q = b / u;
  let r = b % u;
  if (r < 0n) {
    q -= 1n;
    r += u;
  }
  return [Number(q), Number(r)];
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Days since 1970-01-01 → `YYYY-MM-DD`, proleptic Gregorian (as Avro and Spark count), without a Date object. */
export function formatDate(days: number | bigint): string {
  // Civil-from-days over 400-year eras (H. Hinnant's published algorithm, written from its description).
  const z = Number(days) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  // ISO 8601 expanded years outside 0000–9999, as Date#toISOString writes them.
  const year = y >= 0 && y <= 9999 ? String(y).padStart(4, '0') : `${y < 0 ? '-' : '+'}${String(Math.abs(y)).padStart(6, '0')}`;
  return `${year}-${pad2(m)}-${pad2(d)}`;
}

function clock(secOfDay: number): string {
  return `${pad2(Math.floor(secOfDay / 3600))}:${pad2(Math.floor((secOfDay % 3600) / 60))}:${pad2(secOfDay % 60)}`;
}

/** Time of day in `unitsPerSecond` units → `HH:MM:SS.f…` with `digits` fraction digits. */
export function formatTime(v: number | bigint, unitsPerSecond: number, digits: number): string {
  const [sec, frac] = splitSeconds(v, unitsPerSecond);
  return `${clock(sec)}.${String(frac).padStart(digits, '0')}`;
}

// Consecutive timestamps usually share their day.
let lastDay = NaN;
let lastDayText = '';

/** Instant since the epoch in `unitsPerSecond` units → `YYYY-MM-DDTHH:MM:SS.f…Z`. */
export function formatTimestamp(v: number | bigint, unitsPerSecond: number, digits: number): string {
  const [sec, frac] = splitSeconds(v, unitsPerSecond);
  const day = Math.floor(sec / 86400);
  if (day !== lastDay) {
    lastDay = day;
    lastDayText = formatDate(day);
  }
  return `${lastDayText}T${clock(sec - day * 86400)}.${String(frac).padStart(digits, '0')}Z`;
}

/** A decimal string with exactly `scale` fraction digits (pads; never rounds away digits). */
export function formatDecimal(v: string | number | bigint, scale: number): string {
  // Fast path: the decoder already gives exactly `scale` fraction digits.
  if (typeof v === 'string' && scale > 0 && v.length - v.indexOf('.') - 1 === scale && v.indexOf('.') > 0) return v;
  const text = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : String(v);
  if (!/^[+-]?\d+(\.\d*)?$/.test(text)) return text;
  const [int = '0', frac = ''] = text.split('.');
  if (scale === 0) return frac.replace(/0+$/, '') === '' ? int : text;
  return frac.length >= scale ? `${int}.${frac}` : `${int}.${frac.padEnd(scale, '0')}`;
}

/** Shortest decimal text that reads back as the same float32 (0.1f prints as 0.1, not 0.10000000149). */
export function formatFloat32(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  for (let p = 1; p <= 9; p++) {
    const c = Number(n.toPrecision(p));
    if (Math.fround(c) === n) return String(c);
  }
  return String(n);
}

function numberText(n: number, float32: boolean): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return float32 ? formatFloat32(n) : String(n);
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A value with no usable column type, in the same conventions (bigint digits, bytes base64). */
export function anyJson(v: Value | undefined): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : JSON.stringify(numberText(v, false));
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof Uint8Array) return JSON.stringify(base64(v));
  if (Array.isArray(v)) return `[${v.map(anyJson).join(',')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${JSON.stringify(k)}:${anyJson(x)}`)
    .join(',')}}`;
}

const isInt = (v: Value | undefined): v is number | bigint => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));

export function compileJson(kind: ValueKind): JsonFormatter {
  switch (kind.k) {
    case 'int':
    case 'long':
    case 'number':
      return (v) => (isInt(v) ? (typeof v === 'bigint' ? v.toString() : String(v)) : anyJson(v));
    case 'double':
    case 'float': {
      const f32 = kind.k === 'float';
      // NaN and ±Infinity have no JSON number form: written as strings, as Spark does.
      return (v) => (typeof v === 'number' ? (Number.isFinite(v) ? numberText(v, f32) : JSON.stringify(numberText(v, f32))) : anyJson(v));
    }
    case 'decimal':
      return (v) => (typeof v === 'string' || typeof v === 'bigint' || typeof v === 'number' ? JSON.stringify(formatDecimal(v, kind.scale)) : anyJson(v));
    case 'date':
      return (v) => (isInt(v) ? `"${formatDate(v)}"` : anyJson(v));
    case 'time':
      return (v) => (isInt(v) ? `"${formatTime(v, kind.unitsPerSecond, kind.digits)}"` : anyJson(v));
    case 'timestamp':
      return (v) => (isInt(v) ? `"${formatTimestamp(v, kind.unitsPerSecond, kind.digits)}"` : anyJson(v));
    case 'array': {
      const item = compileJson(kind.items);
      return (v) => (Array.isArray(v) ? `[${v.map(item).join(',')}]` : anyJson(v));
    }
    case 'record': {
      const fields = kind.fields.map((f) => ({ key: JSON.stringify(f.name), name: f.name, fmt: compileJson(f.kind) }));
      return (v) => {
        if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) return anyJson(v);
        const o = v as { [k: string]: Value };
        return `{${fields.map((f) => `${f.key}:${f.fmt(o[f.name])}`).join(',')}}`;
      };
    }
    case 'string':
    case 'boolean':
    case 'bytes':
    case 'any':
      return anyJson;
  }
}

/** The JSONL text of one value of the given column type, e.g. `"19.90"`, `9007199254740993`, `"2024-01-31"`. */
export function formatValueJson(value: Value | undefined, type: AvroType): string {
  return compileJson(valueKind(type))(value);
}

// ---------------------------------------------------------------------------------------------
// Plain text (CSV, table): the JSONL text without JSON quoting of strings; null → undefined.

export type TextFormatter = (v: Value | undefined) => string | undefined;

/** Plain text of a value with no usable column type. */
function anyText(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numberText(v, false);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Uint8Array) return base64(v);
  return anyJson(v);
}

export function compileText(kind: ValueKind): TextFormatter {
  const t = ((): ((v: Value) => string) => {
    switch (kind.k) {
      case 'int':
      case 'long':
      case 'number':
        return (v) => (isInt(v) ? String(v) : anyText(v));
      case 'double':
      case 'float': {
        const f32 = kind.k === 'float';
        return (v) => (typeof v === 'number' ? numberText(v, f32) : anyText(v));
      }
      case 'decimal':
        return (v) => (typeof v === 'string' || typeof v === 'bigint' || typeof v === 'number' ? formatDecimal(v, kind.scale) : anyText(v));
      case 'date':
        return (v) => (isInt(v) ? formatDate(v) : anyText(v));
      case 'time':
        return (v) => (isInt(v) ? formatTime(v, kind.unitsPerSecond, kind.digits) : anyText(v));
      case 'timestamp':
        return (v) => (isInt(v) ? formatTimestamp(v, kind.unitsPerSecond, kind.digits) : anyText(v));
      case 'array':
      case 'record':
        return compileJson(kind);
      case 'string':
      case 'boolean':
      case 'bytes':
      case 'any':
        return anyText;
    }
  })();
  return (v) => (v === null || v === undefined ? undefined : t(v));
}

export function formatValueText(value: Value | undefined, type: AvroType): string | undefined {
  return compileText(valueKind(type))(value);
}
