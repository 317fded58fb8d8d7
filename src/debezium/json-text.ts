/**
 * JSON parsing tuned for JsonConverter output (see shared/research/libbench.md §5):
 * the `{"schema":…,"payload":…}` envelope repeats the same schema bytes in every message,
 * so we split at the first `,"payload":` (it can only be that key: quotes inside strings
 * are escaped and Connect schemas have no `payload` key) and parse only the payload.
 * Integers beyond 2^53 are parsed losslessly (bigint), but only when the text has a run
 * of 16+ digits outside `ts_us`/`ts_ns`, so ordinary records keep the fast `JSON.parse`.
 */
import { parse as losslessParse } from 'lossless-json';

const SCHEMA_PREFIX = Buffer.from('{"schema":');
const PAYLOAD_MARK = Buffer.from(',"payload":');

const MAX_SAFE_TEXT = '9007199254740991';

/** Whether the digit run text[start, start+len) could be an integer JSON.parse rounds. */
function riskyRun(text: string, start: number, len: number): boolean {
  if (len < 16) return false;
  const before = text.charCodeAt(start - 1);
  if (before === 46 /* . */) return false; // fraction digits: a double either way
  if (len === 16 && text.slice(start, start + 16) <= MAX_SAFE_TEXT) return false;
  const colon = before === 45 /* - */ ? start - 2 : start - 1;
  // ts_us/ts_ns are envelope timestamps we never need exactly (we use ts_ms).
  return !(text.charCodeAt(colon) === 58 && (text.startsWith('"ts_ns"', colon - 7) || text.startsWith('"ts_us"', colon - 7)));
}

/** True when `JSON.parse` could round an integer that matters (beyond 2^53, outside ts_us/ts_ns). */
export function needsLossless(text: string): boolean {
  // One pass counting digit runs; cheaper than a regex that retries at every digit.
  let run = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) run++;
    else {
      if (run >= 16 && riskyRun(text, i - run, run)) return true;
      run = 0;
    }
  }
  return run >= 16 && riskyRun(text, n - run, run);
}

function parseNumber(s: string): number | bigint {
  if (s.length > 15 && /^-?\d+$/.test(s)) {
    const b = BigInt(s);
    return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
  }
  return Number(s);
}

/** Parse JSON text; integers beyond 2^53 become bigint. Throws SyntaxError on bad JSON. */
export function parseJson(text: string): unknown {
  if (needsLossless(text)) return losslessParse(text, undefined, parseNumber);
  return JSON.parse(text);
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
