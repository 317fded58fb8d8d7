/**
 * Hudi log blocks: framing (encode one block, decode every block of a log file) and
 * builders for the blocks cdc-lake writes. All integers are big-endian.
 *
 *   magic "#HUDI#" | long blockSize | int formatVersion | int type | header map |
 *   long contentLength | content | footer map | long totalLength (= blockSize + 6)
 *
 * blockSize counts everything after itself, including the trailing long.
 */
import {
  BLOCK_TYPES, HEADER_KEYS, LOG_FORMAT_VERSION, MAGIC, ROLLBACK_COMMAND,
  type BlockType, type HeaderKey, type LogBlockHeaders,
} from './log-format.js';
import { concat, int32, int64 } from './bytes.js';

export * from './log-format.js';
export * from './log-content.js';

export interface LogBlock {
  type: BlockType;
  /** Log format version of the block (1 for everything written since Hudi 0.x). */
  formatVersion: number;
  headers: LogBlockHeaders;
  footers: LogBlockHeaders;
  content: Uint8Array;
  /** Byte offset of the block's magic in the file. */
  offset: number;
  /** Total bytes of the block, magic to trailing length inclusive. */
  length: number;
}

export interface LogBlockInput {
  type: BlockType;
  headers: LogBlockHeaders;
  content?: Uint8Array;
  footers?: LogBlockHeaders;
  formatVersion?: number;
}

/** A log file that cannot be decoded; names the file and byte offset. */
export class LogBlockError extends Error {
  override readonly name = 'LogBlockError';
  constructor(readonly file: string, readonly offset: number, detail: string) {
    super(`${file}: corrupt log block at byte ${offset}: ${detail}; the file was not written completely or is not a Hudi log file`);
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function encodeMap(m: LogBlockHeaders): Uint8Array[] {
  const entries = Object.entries(m).filter((e): e is [HeaderKey, string] => e[1] !== undefined);
  const parts: Uint8Array[] = [int32(entries.length)];
  for (const [k, v] of entries) {
    const ord = HEADER_KEYS.indexOf(k);
    if (ord < 0) throw new TypeError(`unknown log block header "${k}"`);
    const bytes = enc.encode(v);
    parts.push(int32(ord), int32(bytes.length), bytes);
  }
  return parts;
}

/** Encodes one complete block (append blocks of a file by concatenation). */
export function encodeLogBlock(b: LogBlockInput): Uint8Array {
  const content = b.content ?? new Uint8Array(0);
  const body = [int32(b.formatVersion ?? LOG_FORMAT_VERSION), int32(BLOCK_TYPES.indexOf(b.type)), ...encodeMap(b.headers), int64(content.length), content, ...encodeMap(b.footers ?? {})];
  // The block size counts the body and the trailing length; one concat copies the content once.
  const blockSize = body.reduce((n, p) => n + p.length, 0) + 8;
  return concat([MAGIC, int64(blockSize), ...body, int64(blockSize + MAGIC.length)]);
}

/** Reads big-endian fields with bounds checks that name the file offset. */
class Cursor {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, public pos: number, private readonly end: number, private readonly file: string, private readonly start: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new LogBlockError(this.file, this.start, `${what} runs past the block end (byte ${this.pos})`);
  }
  int(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  long(what: string): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new LogBlockError(this.file, this.start, `${what} is ${v}`);
    return Number(v);
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  map(what: string): LogBlockHeaders {
    const count = this.int(`${what} count`);
    if (count < 0 || count > HEADER_KEYS.length * 4) throw new LogBlockError(this.file, this.start, `${what} count ${count} is out of range`);
    const m: LogBlockHeaders = {};
    for (let i = 0; i < count; i++) {
      const ord = this.int(`${what} key`);
      const key = HEADER_KEYS[ord];
      if (key === undefined) throw new LogBlockError(this.file, this.start, `${what} key ordinal ${ord} is unknown`);
      const len = this.int(`${what} ${key} length`);
      try {
        m[key] = dec.decode(this.take(len, `${what} ${key}`));
      } catch (e) {
        if (e instanceof LogBlockError) throw e;
        throw new LogBlockError(this.file, this.start, `${what} ${key} is not UTF-8`);
      }
    }
    return m;
  }
}

function isMagicAt(bytes: Uint8Array, pos: number): boolean {
  if (pos + MAGIC.length > bytes.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[pos + i] !== MAGIC[i]) return false;
  return true;
}

/**
 * Decodes every block of a log file. Like Java's corruption check, a block is valid only
 * if its trailing length equals blockSize + 6 and it is followed by another magic or EOF;
 * otherwise a LogBlockError names the offset (we never skip data silently).
 */
export function readLogBlocks(bytes: Uint8Array, file = 'log file'): LogBlock[] {
  const blocks: LogBlock[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    if (!isMagicAt(bytes, pos)) throw new LogBlockError(file, start, 'missing "#HUDI#" magic');
    const head = new Cursor(bytes, pos + MAGIC.length, bytes.length, file, start);
    const blockSize = head.long('block size');
    const end = head.pos + blockSize;
    if (end > bytes.length) throw new LogBlockError(file, start, `block size ${blockSize} runs past the end of the file (${bytes.length} bytes)`);
    if (blockSize < 4 + 4 + 4 + 8 + 4 + 8) throw new LogBlockError(file, start, `block size ${blockSize} is too small`);
    const c = new Cursor(bytes, head.pos, end - 8, file, start);
    const formatVersion = c.int('format version');
    const typeOrd = c.int('block type');
    const type = BLOCK_TYPES[typeOrd];
    if (type === undefined) throw new LogBlockError(file, start, `block type ordinal ${typeOrd} is unknown`);
    const headers = formatVersion >= 1 ? c.map('header') : {};
    const contentLength = c.long('content length');
    const content = c.take(contentLength, 'content');
    const footers = formatVersion >= 1 ? c.map('footer') : {};
    if (c.pos !== end - 8) throw new LogBlockError(file, start, `${end - 8 - c.pos} unexpected bytes before the trailing length`);
    const total = new Cursor(bytes, end - 8, end, file, start).long('trailing length');
    if (total !== blockSize + MAGIC.length) throw new LogBlockError(file, start, `trailing length ${total} != block size + 6 (${blockSize + 6})`);
    if (end < bytes.length && !isMagicAt(bytes, end)) throw new LogBlockError(file, end, 'next block does not start with "#HUDI#"');
    blocks.push({ type, formatVersion, headers, footers, content, offset: start, length: end - start });
    pos = end;
  }
  return blocks;
}

/** Rollback command block: masks every block whose INSTANT_TIME is `targetInstantTime`. */
export function rollbackCommandBlock(instantTime: string, targetInstantTime: string): LogBlockInput {
  return {
    type: 'COMMAND',
    headers: { INSTANT_TIME: instantTime, TARGET_INSTANT_TIME: targetInstantTime, COMMAND_BLOCK_TYPE: ROLLBACK_COMMAND },
  };
}
