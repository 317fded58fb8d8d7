/**
 * JSON parsing tuned for JsonConverter output (see shared/research/libbench.md §5):
 * the `{"schema":…,"payload":…}` envelope repeats the same schema bytes in every message,
 * so we split at the first `,"payload":` (it can only be that key: quotes inside strings
 * are escaped and Connect schemas have no `payload` key) and parse only the payload.
 * Integers beyond 2^53 are parsed losslessly (bigint), but only when `JSON.parse` met one
 * outside `ts_us`/`ts_ns`, so ordinary records keep the fast native parse.
 */
import { parse as losslessParse } from 'lossless-json';

const SCHEMA_PREFIX = Buffer.from('{"schema":');
const PAYLOAD_MARK = Buffer.from(',"payload":');

function parseNumber(s: string): number | bigint {
  if (s.length > 15 && /^-?\d+$/.test(s)) {
    const b = BigInt(s);
    return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
  }
  return Number(s);
}

function unsafeNumber(x: unknown, key: string): boolean {
  // ts_us/ts_ns are envelope timestamps we never need exactly (we use ts_ms).
  return typeof x === 'number' && !Number.isSafeInteger(x) && Number.isInteger(x) && key !== 'ts_ns' && key !== 'ts_us';
}

/**
 * True when a parsed value holds an integer number beyond 2^53 (outside ts_us/ts_ns): its
 * text had more digits than a double keeps. Walking the parsed tree is ~7× cheaper than
 * scanning the text for digit runs first, and digits inside strings are never suspects.
 */
export function hasUnsafeInteger(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return unsafeNumber(v, '');
  if (Array.isArray(v)) {
    for (const e of v) if (hasUnsafeInteger(e)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object' ? x !== null && hasUnsafeInteger(x) : unsafeNumber(x, k)) return true;
  }
  return false;
}

/**
 * Parse JSON text; integers beyond 2^53 become bigint. Throws SyntaxError on bad JSON.
 * `JSON.parse` first; only a result holding an integer it could have rounded is parsed
 * again losslessly, so ordinary records pay one native parse and a short walk.
 */
export function parseJson(text: string): unknown {
  const v: unknown = JSON.parse(text);
  return hasUnsafeInteger(v) ? losslessParse(text, undefined, parseNumber) : v;
}

export interface SplitEnvelope {
  /** The schema's bytes (a view into the record). */
  schema: Buffer;
  /** The payload's JSON text. */
  payload: string;
}

/** Split `{"schema":S,"payload":P}` without parsing S; null when the bytes have another shape. */
export function splitEnvelope(buf: Buffer): SplitEnvelope | null {
  if (buf.length < 24 || buf.compare(SCHEMA_PREFIX, 0, SCHEMA_PREFIX.length, 0, SCHEMA_PREFIX.length) !== 0) return null;
  const at = buf.indexOf(PAYLOAD_MARK, SCHEMA_PREFIX.length);
  if (at < 0) return null;
  let end = buf.length - 1;
  while (end > at && (buf[end] === 0x20 || buf[end] === 0x0a || buf[end] === 0x0d || buf[end] === 0x09)) end--;
  if (buf[end] !== 0x7d /* } */) return null;
  return { schema: buf.subarray(SCHEMA_PREFIX.length, at), payload: buf.toString('utf8', at + PAYLOAD_MARK.length, end) };
}
