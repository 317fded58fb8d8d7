/**
 * The ingest benchmark's input: Debezium PostgreSQL JSON change records (schemaless
 * JsonConverter form) of a 10-column table, 70% updates of existing keys, keyed and
 * partitioned by id so each key's changes stay in order. Deterministic by index.
 */
import { createReadStream, promises as fs } from 'node:fs';

export const TOPIC_TABLE = 'customers';

export interface BenchRecord {
  partition: number;
  key: string;
  value: string;
}

/** Record `i` of the stream; `tsMs` (default: derived from i) is the source commit time. */
export function changeRecord(i: number, partitions: number, tsMs?: number): BenchRecord {
  // Inserts are every record with i % 10 >= 7 (and the first 1000); updates pick an earlier inserted key.
  const isInsert = i < 1000 || i % 10 >= 7;
  const inserted = insertsBefore(i);
  const id = isInsert ? inserted + 1 : 1 + ((i * 2654435761) % inserted);
  const now = tsMs ?? 1767225600000 + i;
  const lsn = (i + 1) * 64;
  const rev = i;
  const after =
    `{"id":${id},"tenant":${id % 97},"name":"customer ${id}","email":"c${id}@example.com","balance":"${(rev % 100000) / 100}",` +
    `"score":${(rev % 1000) + 0.25},"active":${rev % 3 !== 0},"note":"rev ${rev} of ${id}","version":${rev},"updated_at":"2026-01-01T00:00:00.${String(rev % 1000000).padStart(6, '0')}Z"}`;
  const value =
    `{"before":null,"after":${after},` +
    `"source":{"version":"3.0.0","connector":"postgresql","name":"bench","ts_ms":${now},"snapshot":"false","db":"app","schema":"public","table":"${TOPIC_TABLE}","txId":${1000 + i},"lsn":${lsn},"sequence":"[null,\\"${lsn}\\"]"},` +
    `"op":"${isInsert ? 'c' : 'u'}","ts_ms":${now}}`;
  return { partition: id % partitions, key: `{"id":${id}}`, value };
}

const field = (name: string, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type, optional: name !== 'id', field: name, ...extra });
const ROW = { type: 'struct', optional: true, name: `bench.public.${TOPIC_TABLE}.Value`, fields: [
  field('id', 'int64'), field('tenant', 'int64'), field('name', 'string'), field('email', 'string'), field('balance', 'string'), field('score', 'double'),
  field('active', 'boolean'), field('note', 'string'), field('version', 'int64'), field('updated_at', 'string', { name: 'io.debezium.time.ZonedTimestamp' }),
] };
const SOURCE = { type: 'struct', optional: false, name: 'io.debezium.connector.postgresql.Source', field: 'source', fields: [
  field('version', 'string'), field('connector', 'string'), field('name', 'string'), field('ts_ms', 'int64'), field('snapshot', 'string'), field('db', 'string'),
  field('schema', 'string'), field('table', 'string'), field('txId', 'int64'), field('lsn', 'int64'), field('sequence', 'string'),
] };
const VALUE_SCHEMA = JSON.stringify({ type: 'struct', optional: false, name: `bench.public.${TOPIC_TABLE}.Envelope`, version: 2, fields: [{ ...ROW, field: 'before' }, { ...ROW, field: 'after' }, SOURCE, field('op', 'string', { optional: false }), field('ts_ms', 'int64')] });
const KEY_SCHEMA = JSON.stringify({ type: 'struct', optional: false, name: `bench.public.${TOPIC_TABLE}.Key`, fields: [field('id', 'int64')] });

/** The record as JsonConverter sends it with `schemas.enable=true`: each payload beside its Connect schema (~2.9 KB a record). */
export function withConnectSchema(r: BenchRecord): BenchRecord {
  return { partition: r.partition, key: `{"schema":${KEY_SCHEMA},"payload":${r.key}}`, value: `{"schema":${VALUE_SCHEMA},"payload":${r.value}}` };
}

/** Number of inserts among records 0..i-1. */
function insertsBefore(i: number): number {
  if (i <= 1000) return i;
  // 1000 leading inserts, then 3 of every 10 (i % 10 in 7..9).
  const rest = (n: number): number => Math.floor(n / 10) * 3 + Math.max(0, (n % 10) - 7);
  return 1000 + rest(i) - rest(1000);
}

/** Records 0..records-1 as a file-source JSONL file (`{"topic","partition","offset","key","value"}` per line); `schemas`: with Connect schemas. */
export async function writeBenchJsonl(file: string, records: number, partitions: number, topic: string, opts: { schemas?: boolean } = {}): Promise<void> {
  const next = new Array<number>(partitions).fill(0);
  const fh = await fs.open(file, 'w');
  try {
    let chunk: string[] = [];
    for (let i = 0; i < records; i++) {
      const r = opts.schemas ? withConnectSchema(changeRecord(i, partitions)) : changeRecord(i, partitions);
      const offset = next[r.partition] ?? 0;
      next[r.partition] = offset + 1;
      chunk.push(`{"topic":"${topic}","partition":${r.partition},"offset":${offset},"key":${r.key},"value":${r.value}}`);
      if (chunk.length === 5000) {
        await fh.write(chunk.join('\n') + '\n');
        chunk = [];
      }
    }
    if (chunk.length > 0) await fh.write(chunk.join('\n') + '\n');
  } finally {
    await fh.close();
  }
}

const NL = 0x0a;

/**
 * Calls `line(buf, start, end)` for every line of a file, or of its byte range [start, end),
 * streamed in 1 MiB chunks (a 1M-record file is longer than the longest string V8 makes). A
 * promise the callback returns is awaited; a plain return costs no extra tick.
 */
export async function eachLine(file: string, line: (b: Buffer, s: number, e: number) => Promise<void> | void, range?: { start: number; end: number }): Promise<void> {
  let carry: Buffer | undefined;
  const stream = createReadStream(file, { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end - 1 } : {}) });
  for await (const chunk of stream) {
    const buf = carry ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let s = 0;
    for (let nl = buf.indexOf(NL); nl >= 0; nl = buf.indexOf(NL, s)) {
      if (nl > s) {
        const pending = line(buf, s, nl);
        if (pending) await pending;
      }
      s = nl + 1;
    }
    carry = s < buf.length ? Buffer.from(buf.subarray(s)) : undefined;
  }
  if (carry && carry.length > 0) await line(carry, 0, carry.length);
}

/** The file path's baseline: how many lines of the file a bare `JSON.parse` reads, one string per line. */
export async function bareParse(file: string): Promise<number> {
  let n = 0;
  await eachLine(file, (b, s, e) => {
    if (JSON.parse(b.toString('utf8', s, e)) !== null) n++;
  });
  return n;
}
