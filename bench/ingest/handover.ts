/**
 * A design option measured before it is built (issue #5's file-path and 0.7 × raw targets):
 * decoding on worker threads that hand rows over Avro-encoded — the bytes a log block
 * stores — with only key, position and operation as numbers, so the main thread keeps the
 * newest change per key and assembles blocks without rebuilding a row object.
 *
 * Side by side in one process, alternating per round:
 *   --from file (default), on a JSONL file of bench records:
 *     bare    — JSON.parse of every line, streamed (the (e) baseline of e2e.ts);
 *     workers — N workers each read a byte range of the file (cut at newlines) and parse its
 *               lines (`parseLine`);
 *   --from kafka, on the bench topic e2e.ts produces (`bench.e2e.<records>.16`; stack up):
 *     raw     — KafkaSource fetching every record, no processing (the (a) baseline);
 *     workers — KafkaSource on the main thread packs each batch's keys and values into one
 *               buffer and transfers it to a worker (round robin);
 *   then, in both, each worker decodes (`decodeRecord`), adds the CDC columns (`toMutation`)
 *   and Avro-encodes rows (`encodeAvroDataContent`); the main thread keeps the highest
 *   position per key and, every 50k keys, copies the winners' bytes into one block and
 *   writes it to a file.
 * Not measured (a real writer would add them): the `_hoodie_*` fields before each row, the
 * key index, commit protocol and timeline, base files for new file groups, schema changes.
 *
 *   node --import tsx bench/ingest/handover.ts [--from file|kafka] [--records 1000000] [--workers 1,2] [--rounds 2]
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { createDecodeContext, decodeRecord, SchemaTracker, type KafkaRecordIn } from '../../src/debezium/index.js';
import { encodeAvroDataContent } from '../../src/hudi/log-content.js';
import { toMutation, withCdcColumns } from '../../src/pipeline/rows.js';
import { parseLine } from '../../src/source/line.js';
import type { RecordBatch } from '../../src/source/source.js';
import type { Row } from '../../src/table/schema.js';
import { bareParse, eachLine, writeBenchJsonl } from './records.js';

const NL = 0x0a;
/** Rows per hand-over message from a file worker; at most IN_FLIGHT messages wait per worker. */
const HANDOVER_ROWS = 2000;
const IN_FLIGHT = 8;
/** Keys per assembled block (the daemon's default `buffer.maxRows`). */
const BLOCK_KEYS = 50_000;

/** Decoded rows on their way to the main thread. */
interface Handover {
  keys: Float64Array;
  positions: BigInt64Array;
  ops: Uint8Array;
  /** Avro data block content: version, count, then per row its length and datum. */
  block: Uint8Array;
}

/** One Kafka batch on its way to a worker: keys and values back to back in `bytes`, `ends` after each. */
interface PackedBatch {
  topic: string;
  partition: number;
  offsets: BigInt64Array;
  bytes: Uint8Array;
  ends: Int32Array;
}

function pack(b: RecordBatch): PackedBatch {
  const first = b.records[0];
  if (first === undefined) throw new Error(`empty batch of ${b.split}`);
  let size = 0;
  for (const r of b.records) {
    if (r.key === null || r.value === null) throw new Error(`bench record ${r.topic}:${r.partition}@${r.offset} has a null key or value`);
    size += r.key.byteLength + r.value.byteLength;
  }
  const bytes = new Uint8Array(size);
  const ends = new Int32Array(b.records.length * 2);
  const offsets = new BigInt64Array(b.records.length);
  let p = 0;
  b.records.forEach((r, i) => {
    for (const [j, part] of [r.key, r.value].entries()) {
      bytes.set(part as Uint8Array, p);
      p += (part as Uint8Array).byteLength;
      ends[2 * i + j] = p;
    }
    offsets[i] = r.offset;
  });
  return { topic: first.topic, partition: first.partition, offsets, bytes, ends };
}

function* unpack(b: PackedBatch): Generator<KafkaRecordIn> {
  let p = 0;
  for (let i = 0; i < b.offsets.length; i++) {
    const k = b.ends[2 * i] as number;
    const v = b.ends[2 * i + 1] as number;
    yield { topic: b.topic, partition: b.partition, offset: b.offsets[i] as bigint, key: b.bytes.subarray(p, k), value: b.bytes.subarray(k, v) };
    p = v;
  }
}

// --- worker ------------------------------------------------------------------------

/** Decodes records into rows and hands them over Avro-encoded. */
class Encoder {
  private readonly ctx = createDecodeContext({ tracker: new SchemaTracker() });
  private schema = '';
  private readonly keys: number[] = [];
  private readonly positions: bigint[] = [];
  private readonly ops: number[] = [];
  private readonly rows: Row[] = [];
  events = 0;

  constructor(private readonly port: MessagePort) {}

  get size(): number {
    return this.rows.length;
  }

  add(rec: KafkaRecordIn): void {
    const d = decodeRecord(rec, this.ctx);
    if (d.kind !== 'change' || d.event.key === null) throw new Error(`bench record ${rec.topic}:${rec.partition}@${rec.offset} decoded to ${d.kind}`);
    const ev = d.event;
    if (this.schema === '') this.schema = JSON.stringify(withCdcColumns(ev.schema));
    this.keys.push(Number(ev.key?.id));
    this.positions.push(ev.position.ordering);
    this.ops.push(ev.op.charCodeAt(0));
    this.rows.push(toMutation(ev).row);
    this.events++;
  }

  send(): void {
    const h: Handover = { keys: Float64Array.from(this.keys), positions: BigInt64Array.from(this.positions), ops: Uint8Array.from(this.ops), block: encodeAvroDataContent(this.schema, this.rows) };
    this.port.postMessage(h, [h.keys.buffer, h.positions.buffer, h.ops.buffer, h.block.buffer] as ArrayBuffer[]);
    this.keys.length = this.positions.length = this.ops.length = this.rows.length = 0;
  }
}

/** File mode: decodes a byte range of the file; at most IN_FLIGHT hand-overs wait for the main thread's ack. */
async function fileWorker(port: MessagePort, file: string, start: number, end: number): Promise<void> {
  const enc = new Encoder(port);
  let inFlight = 0;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    inFlight--;
    wake?.();
  });
  const send = async (): Promise<void> => {
    while (inFlight >= IN_FLIGHT) await new Promise<void>((ok) => (wake = ok));
    inFlight++;
    enc.send();
  };
  await eachLine(
    file,
    (b, s, e) => {
      enc.add(parseLine(b, s, e));
      return enc.size >= HANDOVER_ROWS ? send() : undefined;
    },
    { start, end },
  );
  if (enc.size > 0) await send();
  port.postMessage({ done: enc.events });
  port.close();
}

/** Kafka mode: one hand-over per packed batch received (the main thread bounds the batches in flight). */
function kafkaWorker(port: MessagePort): void {
  const enc = new Encoder(port);
  port.on('message', (m: PackedBatch | 'end') => {
    if (m === 'end') {
      port.postMessage({ done: enc.events });
      port.close();
      return;
    }
    for (const rec of unpack(m)) enc.add(rec);
    enc.send();
  });
}

// --- main --------------------------------------------------------------------------

type WorkerData = { mode: 'file'; file: string; start: number; end: number } | { mode: 'kafka' };

function startWorker(data: WorkerData): Worker {
  const self = new URL(import.meta.url);
  if (!self.pathname.endsWith('.ts')) return new Worker(self, { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(self.href)}); })`, { eval: true, workerData: data });
}

/** Byte offsets that cut the file into `n` ranges at line starts. */
async function ranges(file: string, n: number): Promise<number[]> {
  const size = (await fs.stat(file)).size;
  const cuts = [0];
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (let i = 1; i < n; i++) {
      let at = Math.floor((size * i) / n);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        const nl = buf.subarray(0, bytesRead).indexOf(NL);
        if (nl >= 0 || bytesRead === 0) {
          at += nl >= 0 ? nl + 1 : 0;
          break;
        }
        at += bytesRead;
      }
      cuts.push(at);
    }
  } finally {
    await fh.close();
  }
  cuts.push(size);
  return cuts;
}

/** Start offset of each row's length prefix in a block, plus the end. */
function rowOffsets(block: Uint8Array): Int32Array {
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const count = dv.getInt32(4);
  const out = new Int32Array(count + 1);
  let p = 8;
  for (let i = 0; i < count; i++) {
    out[i] = p;
    p += 4 + dv.getInt32(p);
  }
  out[count] = p;
  return out;
}

interface Winner {
  block: Uint8Array;
  offsets: Int32Array;
  row: number;
  position: bigint;
}

/** The main thread's side: the newest position per key, and a block of the winners' bytes every BLOCK_KEYS keys. */
class Assembler {
  private readonly winners = new Map<number, Winner>();
  private blocks = 0;
  private writing = Promise.resolve();
  events = 0;
  busyMs = 0;

  constructor(private readonly outDir: string) {}

  take(h: Handover): void {
    const t = performance.now();
    const offsets = rowOffsets(h.block);
    for (let r = 0; r < h.keys.length; r++) {
      const key = h.keys[r] as number;
      const position = h.positions[r] as bigint;
      const cur = this.winners.get(key);
      if (cur === undefined || position > cur.position) this.winners.set(key, { block: h.block, offsets, row: r, position });
    }
    this.events += h.keys.length;
    if (this.winners.size >= BLOCK_KEYS) this.assemble();
    this.busyMs += performance.now() - t;
  }

  private assemble(): void {
    let bytes = 8;
    for (const w of this.winners.values()) bytes += (w.offsets[w.row + 1] as number) - (w.offsets[w.row] as number);
    const out = Buffer.allocUnsafe(bytes);
    out.writeInt32BE(3, 0);
    out.writeInt32BE(this.winners.size, 4);
    let p = 8;
    for (const w of this.winners.values()) {
      const s = w.offsets[w.row] as number;
      const e = w.offsets[w.row + 1] as number;
      out.set(w.block.subarray(s, e), p);
      p += e - s;
    }
    this.winners.clear();
    const name = path.join(this.outDir, `block-${this.blocks++ % 4}`);
    this.writing = this.writing.then(() => fs.writeFile(name, out));
  }

  async finish(): Promise<void> {
    if (this.winners.size > 0) this.assemble();
    await this.writing;
  }
}

async function fileViaWorkers(file: string, workers: number, outDir: string): Promise<Assembler> {
  const cuts = await ranges(file, workers);
  const asm = new Assembler(outDir);
  await Promise.all(
    cuts.slice(0, -1).map(
      (start, i) =>
        new Promise<void>((resolve, reject) => {
          const w = startWorker({ mode: 'file', file, start, end: cuts[i + 1] as number });
          w.on('error', reject);
          w.on('message', (m: Handover | { done: number }) => {
            if ('done' in m) return resolve();
            asm.take(m);
            w.postMessage(1);
          });
        }),
    ),
  );
  await asm.finish();
  return asm;
}

/** The Kafka client, loaded by the main thread only (workers would start slower with it). */
const kafkaSource = async (): Promise<typeof import('../../src/source/kafka.js').KafkaSource> => (await import('../../src/source/kafka.js')).KafkaSource;

async function kafkaViaWorkers(brokers: string[], topic: string, total: number, workers: number, outDir: string): Promise<Assembler> {
  const KafkaSource = await kafkaSource();
  const asm = new Assembler(outDir);
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const done: Promise<void>[] = [];
  const pool = Array.from({ length: workers }, () => {
    const w = startWorker({ mode: 'kafka' });
    done.push(
      new Promise<void>((resolve, reject) => {
        w.on('error', reject);
        w.on('message', (m: Handover | { done: number }) => {
          if ('done' in m) return resolve();
          asm.take(m);
          inFlight--;
          wake?.();
        });
      }),
    );
    return w;
  });
  const src = new KafkaSource({ brokers, groupId: `bench-handover-${process.pid}-${Date.now()}`, topics: [topic], maxWaitMs: 100 });
  await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
  let sent = 0;
  let next = 0;
  for await (const b of src.batches()) {
    if (b.records.length === 0) continue;
    const packed = pack(b);
    while (inFlight >= IN_FLIGHT * workers) await new Promise<void>((ok) => (wake = ok));
    inFlight++;
    (pool[next++ % workers] as Worker).postMessage(packed, [packed.offsets.buffer, packed.bytes.buffer, packed.ends.buffer] as ArrayBuffer[]);
    sent += b.records.length;
    if (sent >= total) src.stop();
  }
  await src.close();
  for (const w of pool) w.postMessage('end');
  await Promise.all(done);
  await asm.finish();
  return asm;
}

async function raw(brokers: string[], topic: string, total: number): Promise<number> {
  const KafkaSource = await kafkaSource();
  const src = new KafkaSource({ brokers, groupId: `bench-handover-raw-${process.pid}-${Date.now()}`, topics: [topic], maxWaitMs: 100 });
  await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
  let n = 0;
  for await (const b of src.batches()) {
    n += b.records.length;
    if (n >= total) src.stop();
  }
  await src.close();
  return n;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { from: { type: 'string', default: 'file' }, records: { type: 'string', default: '1000000' }, workers: { type: 'string', default: '1,2' }, rounds: { type: 'string', default: '2' } } });
  const M = Number(args.records);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdc-lake-bench-handover-'));
  let baseline: string;
  let input: string;
  let total = M;
  let brokers: string[] = [];
  if (args.from === 'kafka') {
    const bootstrap = process.env.KAFKA_BOOTSTRAP;
    if (!bootstrap) throw new Error('KAFKA_BOOTSTRAP is not set: run npm run stack:up first (and bench/ingest/e2e.ts --only a once, which produces the topic)');
    brokers = bootstrap.split(',');
    input = `bench.e2e.${M}.16`;
    total = await (await import('./topic.js')).topicRecords(brokers, input);
    if (total < M) throw new Error(`topic ${input} holds ${total} records: produce it with bench/ingest/e2e.ts --records ${M} --only a`);
    baseline = 'raw';
  } else {
    input = path.join(dir, 'records.jsonl');
    await writeBenchJsonl(input, M, 16, `bench.handover.${M}`);
    baseline = 'bare';
  }
  const sides = [baseline, ...(args.workers as string).split(',').map((w) => `workers-${w}`)];
  const ms: Record<string, number[]> = Object.fromEntries(sides.map((s) => [s, []]));
  const mainUs: Record<string, number[]> = {};
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const side of sides) {
      const t0 = performance.now();
      let n: number;
      if (side === 'bare') n = await bareParse(input);
      else if (side === 'raw') n = await raw(brokers, input, total);
      else {
        const w = Number(side.slice('workers-'.length));
        const asm = args.from === 'kafka' ? await kafkaViaWorkers(brokers, input, total, w, dir) : await fileViaWorkers(input, w, dir);
        n = asm.events;
        (mainUs[side] ??= []).push(+((asm.busyMs * 1000) / n).toFixed(2));
      }
      const t = performance.now() - t0;
      if (n < total) throw new Error(`${side} saw ${n} records, expected ${total}`);
      (ms[side] as number[]).push(Math.round(t));
      process.stderr.write(`round ${r + 1} ${side}: ${Math.round(t)} ms (load ${os.loadavg()[0]?.toFixed(1)})\n`);
    }
  }
  const best = (s: string): number => Math.min(...(ms[s] as number[]));
  const out: Record<string, unknown> = { bench: 'ingest/handover', from: args.from, records: total, cpus: os.cpus().length, node: process.version };
  for (const s of sides) out[s] = { ms: ms[s], perSec: Math.round((total / best(s)) * 1000), ...(s === baseline ? {} : { [`ratioTo${baseline === 'bare' ? 'Bare' : 'Raw'}`]: +(best(baseline) / best(s)).toFixed(2), mainThreadUsPerEvent: mainUs[s] }) };
  console.log(JSON.stringify(out, null, 2));
  await fs.rm(dir, { recursive: true, force: true });
}

if (isMainThread) await main();
else {
  const port = parentPort;
  if (port === null) throw new Error('not a worker');
  const data = workerData as WorkerData;
  if (data.mode === 'file') await fileWorker(port, data.file, data.start, data.end);
  else kafkaWorker(port);
}
