/**
 * Source positions (design brief §3.3): which of two changes to one row happened later.
 *
 * Every position is folded into one signed 64-bit `ordering` so the Hudi ordering field
 * (`_cdc_position`) merges the same way `isNewer` decides. Bit budget:
 *
 * - bit 63: sign, always 0.
 * - bit 62: phase. 0 = initial-snapshot read, 1 = streaming (a streamed change always
 *   outranks a snapshot read of the same row, even with a lower LSN).
 * - PostgreSQL: bits 0-61 = the change LSN (`sequence[1]`, else `source.lsn`). 2^62 bytes of
 *   WAL is far beyond any real server. `sequence[0]` (last commit LSN) is kept for `text`;
 *   per primary key the change LSN alone is increasing (row locks serialise writers).
 * - MySQL: bits 43-61 = binlog file number (19 bits, up to 524287), bits 12-42 = event
 *   position (31 bits, 2 GiB; max_binlog_size is at most 1 GiB), bits 0-11 = row index in the
 *   event, clamped to 4095 (rows of one event are distinct keys, so clamping never reorders
 *   two changes of one row). File numbers or positions beyond their budget are clamped too
 *   and marked `clamped` in `text`.
 */
import type { Position } from './change-event.js';
import { fail } from './invalid-record.js';

const PHASE_BIT = 1n << 62n;
const LSN_MAX = PHASE_BIT - 1n;
const FILE_MAX = (1n << 19n) - 1n;
const POS_MAX = (1n << 31n) - 1n;
const ROW_MAX = 4095n;

export type Phase = 0 | 1;

/*
 * A position's text is asked for once per commit (the checkpoint's sourcePosition) and in
 * logs, while a position is made for every record and buffered with it: the classes below
 * keep what the text needs and build it when asked (a template string per record was ~90
 * bytes of every buffered event and one of the decoder's allocations).
 */

const phaseOf = (ordering: bigint): Phase => (ordering >= PHASE_BIT ? 1 : 0);
const lsnOf = (ordering: bigint): bigint => (ordering >= PHASE_BIT ? ordering - PHASE_BIT : ordering);

/** `pg:<phase>/<lastCommitLsn>/<lsn>`; phase and LSN are read back from the ordering. */
class PgPosition implements Position {
  constructor(
    readonly ordering: bigint,
    private readonly commit: string | null,
  ) {}

  get text(): string {
    return `pg:${phaseOf(this.ordering)}/${this.commit ?? 'null'}/${lsnOf(this.ordering)}`;
  }
}

/** `mysql:<phase>/<file>:<pos>:<row>[ gtid=<gtid>][ clamped]`. */
class MysqlPosition implements Position {
  constructor(
    readonly ordering: bigint,
    private readonly file: string,
    private readonly pos: bigint,
    private readonly row: bigint,
    private readonly gtid: string | undefined,
    private readonly clamped: boolean,
  ) {}

  get text(): string {
    return `mysql:${phaseOf(this.ordering)}/${this.file}:${this.pos}:${this.row}${this.gtid === undefined ? '' : ` gtid=${this.gtid}`}${this.clamped ? ' clamped' : ''}`;
  }
}

/** `lsn:<phase>/<lsn>` (flattened records). */
class LsnPosition implements Position {
  constructor(readonly ordering: bigint) {}

  get text(): string {
    return `lsn:${phaseOf(this.ordering)}/${lsnOf(this.ordering)}`;
  }
}

/** True when `source.snapshot` marks an initial/blocking snapshot read (phase 0). */
export function isSnapshotRead(op: string, snapshot: unknown): boolean {
  if (op !== 'r') return false;
  if (snapshot === null || snapshot === undefined || snapshot === false) return false;
  const s = String(snapshot);
  return s !== 'false' && s !== 'incremental';
}

export function isIncrementalRead(op: string, snapshot: unknown): boolean {
  return op === 'r' && snapshot === 'incremental';
}

function toBig(v: unknown, what: string): bigint | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'object' && v !== null && 'isLosslessNumber' in v) return toBig(String(v), what);
  return fail('bad-position', `${what} is not an integer (got ${JSON.stringify(String(v))})`);
}

const SEQUENCE_RE = /^\[\s*(?:null|"(\d*)"|(\d+))\s*,\s*(?:null|"(\d*)"|(\d+))\s*\]$/;

function seqElement(quoted: string | undefined, bare: string | undefined): string | null {
  const t = quoted ?? bare;
  return t === undefined || t === '' ? null : t;
}

/** One compact element of a sequence text in [from, to): `null`, `"<digits>"` or `<digits>`; undefined = not compact. */
function compactElement(s: string, from: number, to: number): string | null | undefined {
  if (to - from === 4 && s.startsWith('null', from)) return null;
  let a = from;
  let b = to;
  if (s.charCodeAt(a) === 34 && s.charCodeAt(b - 1) === 34 && b - a >= 2) {
    a++;
    b--;
  }
  if (a === b) return s.charCodeAt(from) === 34 ? null : undefined; // "" is null, as the pattern below reads it
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return s.slice(a, b);
}

/** The compact form Debezium writes (`["1","2"]`, `[null,"2"]`) without a regex; undefined for anything else. */
function compactSequence(seq: string): [string | null, string | null] | undefined {
  const comma = seq.indexOf(',');
  if (seq.charCodeAt(0) !== 91 || seq.charCodeAt(seq.length - 1) !== 93 || comma < 0) return undefined;
  const first = compactElement(seq, 1, comma);
  const second = compactElement(seq, comma + 1, seq.length - 1);
  return first === undefined || second === undefined ? undefined : [first, second];
}

/** `source.sequence` is a JSON array text `["<lastCommitLsn>","<lsn>"]`, elements nullable (kept as digit text). */
export function parsePgSequence(seq: unknown): [string | null, string | null] | null {
  if (seq === null || seq === undefined) return null;
  if (typeof seq !== 'string') return fail('bad-position', 'source.sequence must be a JSON array text');
  const compact = compactSequence(seq);
  if (compact !== undefined) return compact;
  const m = SEQUENCE_RE.exec(seq);
  if (m === null) return fail('bad-position', `source.sequence ${JSON.stringify(seq.slice(0, 60))} is not a 2-element array of LSNs`);
  return [seqElement(m[1], m[2]), seqElement(m[3], m[4])];
}

/** PostgreSQL position: (phase, lastCommitLsn, lsn); incremental-snapshot reads are unordered. */
export function pgPosition(op: string, source: Record<string, unknown>): Position {
  if (isIncrementalRead(op, source['snapshot'])) return { ordering: 0n, text: 'pg:incremental', unordered: true };
  const phase: Phase = isSnapshotRead(op, source['snapshot']) ? 0 : 1;
  const seq = parsePgSequence(source['sequence']);
  const lsn = seq?.[1] != null ? BigInt(seq[1]) : toBig(source['lsn'], 'source.lsn');
  if (lsn === null) return fail('missing-position', 'PostgreSQL event has neither source.sequence nor source.lsn');
  if (lsn < 0n || lsn > LSN_MAX) return fail('bad-position', `source lsn ${lsn} is outside 0..2^62`);
  return new PgPosition(phase === 1 ? PHASE_BIT + lsn : lsn, seq?.[0] ?? null);
}

/** `mysql-bin.000003` → 3. */
export function binlogFileNumber(file: string): bigint {
  const m = /\.(\d+)$/.exec(file);
  if (!m) return fail('bad-position', `binlog file name ${JSON.stringify(file)} has no numeric suffix`);
  return BigInt(m[1] as string);
}

/** MySQL position: (phase, binlog file number, pos, row). */
export function mysqlPosition(op: string, source: Record<string, unknown>): Position {
  const phase: Phase = isSnapshotRead(op, source['snapshot']) ? 0 : 1;
  const file = source['file'];
  if (typeof file !== 'string') return fail('missing-position', 'MySQL event has no source.file');
  const fileNo = binlogFileNumber(file);
  const pos = toBig(source['pos'], 'source.pos');
  if (pos === null) return fail('missing-position', 'MySQL event has no source.pos');
  const row = toBig(source['row'], 'source.row') ?? 0n;
  let clamped = false;
  const clamp = (v: bigint, max: bigint): bigint => {
    if (v > max) {
      if (max !== ROW_MAX) clamped = true;
      return max;
    }
    return v < 0n ? 0n : v;
  };
  const ordering = BigInt(phase) * PHASE_BIT + (clamp(fileNo, FILE_MAX) << 43n) + (clamp(pos, POS_MAX) << 12n) + clamp(row, ROW_MAX);
  return new MysqlPosition(ordering, file, pos, row, typeof source['gtid'] === 'string' ? source['gtid'] : undefined, clamped);
}

/** Flattened (ExtractNewRecordState) position from the `__lsn` field added by `add.fields=lsn`. */
export function flattenedPosition(op: string | null, lsnValue: unknown): Position {
  const lsn = toBig(lsnValue, '__lsn');
  if (lsn === null) return fail('missing-position', 'flattened record has no __lsn (configure the SMT with add.fields=op,lsn,...)');
  if (lsn < 0n || lsn > LSN_MAX) return fail('bad-position', `__lsn ${lsn} is outside 0..2^62`);
  return new LsnPosition(op === 'r' ? lsn : PHASE_BIT + lsn);
}

/**
 * Apply `incoming` over the stored position of the same key? Equal is a duplicate (not
 * newer). Unordered (incremental-snapshot) reads apply without a position check; the
 * writer must then keep the stored ordering.
 */
export function isNewer(incoming: Position, stored: { ordering: bigint } | undefined): boolean {
  if (stored === undefined) return true;
  if (incoming.unordered) return true;
  return incoming.ordering > stored.ordering;
}
