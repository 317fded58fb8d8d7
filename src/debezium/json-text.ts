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

/** A record's bytes as a Buffer (the Kafka client gives Buffers; other sources may give plain views): no copy. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Where S and P lie in `{"schema":S,"payload":P}`: S in [10, schemaEnd), P in [payloadStart, payloadEnd). */
export interface EnvelopeSpans {
  schemaEnd: number;
  payloadStart: number;
  payloadEnd: number;
  /** S is the `known` schema bytes given to `envelopeSpans`. */
  known: boolean;
}

/**
 * Find S and P in `{"schema":S,"payload":P}` without parsing S; null when the bytes have
 * another shape. With `known` (an S this split gave before), a record whose S is those
 * bytes is split by one comparison instead of a search for the payload's name (`known`
 * holds no `,"payload":`, and the name cannot overlap itself, so the split is the same).
 */
export function envelopeSpans(buf: Buffer, known?: Buffer): EnvelopeSpans | null {
  if (buf.length < 24 || buf.compare(SCHEMA_PREFIX, 0, SCHEMA_PREFIX.length, 0, SCHEMA_PREFIX.length) !== 0) return null;
  let at = -1;
  let matched = false;
  if (known !== undefined) {
    const end = SCHEMA_PREFIX.length + known.length;
    matched = buf.length > end + PAYLOAD_MARK.length && buf.compare(known, 0, known.length, SCHEMA_PREFIX.length, end) === 0 && buf.compare(PAYLOAD_MARK, 0, PAYLOAD_MARK.length, end, end + PAYLOAD_MARK.length) === 0;
    if (matched) at = end;
  }
  if (at < 0) at = buf.indexOf(PAYLOAD_MARK, SCHEMA_PREFIX.length);
  if (at < 0) return null;
  let end = buf.length - 1;
  while (end > at && (buf[end] === 0x20 || buf[end] === 0x0a || buf[end] === 0x0d || buf[end] === 0x09)) end--;
  if (buf[end] !== 0x7d /* } */) return null;
  return { schemaEnd: at, payloadStart: at + PAYLOAD_MARK.length, payloadEnd: end, known: matched };
}

/** Split `{"schema":S,"payload":P}` without parsing S; null when the bytes have another shape. */
export function splitEnvelope(buf: Buffer): SplitEnvelope | null {
  const spans = envelopeSpans(buf);
  if (spans === null) return null;
  return { schema: envelopeSchema(buf, spans), payload: buf.toString('utf8', spans.payloadStart, spans.payloadEnd) };
}

/** The schema bytes of an envelope whose spans are `spans`. */
export function envelopeSchema(buf: Buffer, spans: EnvelopeSpans): Buffer {
  return buf.subarray(SCHEMA_PREFIX.length, spans.schemaEnd);
}

// The key's column name repeats record after record: decode it only when its bytes change.
let lastNameBytes: Uint8Array = new Uint8Array(0);
let lastName = '';

function nameOf(b: Uint8Array, from: number, to: number): string {
  const len = to - from;
  if (len === lastNameBytes.length) {
    let same = true;
    for (let k = 0; k < len && same; k++) same = b[from + k] === lastNameBytes[k];
    if (same) return lastName;
  }
  lastNameBytes = b.slice(from, to);
  lastName = Buffer.from(lastNameBytes).toString('latin1');
  return lastName;
}

function isNameByte(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** Where the member name of the last key `flatInt` read ends. */
let flatNameEnd = 0;

/**
 * The integer of a schemaless key `{"<name>":<integer>}` exactly (ASCII word name, at most
 * 15 digits, no spaces), read from the bytes; its name ends at `flatNameEnd`. Undefined for
 * any other text.
 */
function flatInt(b: Uint8Array): number | undefined {
  const n = b.length;
  if (n < 7 || b[0] !== 0x7b || b[1] !== 0x22 || b[n - 1] !== 0x7d) return undefined;
  let i = 2;
  while (i < n && isNameByte(b[i] as number)) i++;
  if (i === 2 || b[i] !== 0x22 || b[i + 1] !== 0x3a) return undefined;
  flatNameEnd = i;
  i += 2;
  const neg = b[i] === 0x2d;
  if (neg) i++;
  const digits = n - 1 - i;
  if (digits < 1 || digits > 15 || (b[i] === 0x30 && digits > 1)) return undefined;
  let v = 0;
  for (let k = i; k < n - 1; k++) {
    const c = b[k] as number;
    if (c < 0x30 || c > 0x39) return undefined;
    v = v * 10 + (c - 0x30);
  }
  return neg ? -v : v;
}

/**
 * The schemaless key of a table with one integer primary key, `{"<name>":<integer>}`
 * exactly (see `flatInt`), read from the bytes without a string or a JSON parse; undefined
 * for any other text, which then takes `parseJson`.
 */
export function flatIntKey(b: Uint8Array): Record<string, number> | undefined {
  const v = flatInt(b);
  if (v === undefined) return undefined;
  const out: Record<string, number> = {};
  out[nameOf(b, 2, flatNameEnd)] = v;
  return out;
}

/** The integer of the key `{"<name>":<integer>}` (as `flatIntKey` reads it) when its one column is `name`; no object for it. */
export function flatIntKeyOf(b: Uint8Array, name: string): number | undefined {
  const v = flatInt(b);
  if (v === undefined || flatNameEnd - 2 !== name.length) return undefined;
  for (let k = 0; k < name.length; k++) if (b[2 + k] !== name.charCodeAt(k)) return undefined;
  return v;
}

