/**
 * A design option measured before it is built (issue #5's file-path and 0.7 × raw targets):
 * decoding on worker threads that hand rows over Avro-encoded — the bytes a log block
 * stores — with only key, position and operation as numbers, so the main thread keeps the
 * newest change per key and assembles blocks without rebuilding a row object.
 *
 * Side by side in one process, alternating per round, on the same JSONL file of bench records:
 *   bare    — JSON.parse of every line, streamed (the (e) baseline of e2e.ts);
 *   workers — N workers each read a byte range of the file (cut at newlines), parse lines
 *             (`parseLine`), decode (`decodeRecord`), add the CDC columns (`toMutation`)
 *             and Avro-encode batches of rows (`encodeAvroDataContent`); the main thread
 *             keeps the highest position per key and, every 50k keys, copies the winners'
 *             bytes into one block and writes it to a file.
 * Not measured (a real writer would add them): the `_hoodie_*` fields before each row, the
 * key index, commit protocol and timeline, base files for new file groups, schema changes.
 *
 *   node --import tsx bench/ingest/handover.ts [--records 1000000] [--workers 1,2] [--rounds 2]
 */
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createDecodeContext, decodeRecord, SchemaTracker } from '../../src/debezium/index.js';
import { encodeAvroDataContent } from '../../src/hudi/log-content.js';
import { toMutation, withCdcColumns } from '../../src/pipeline/rows.js';
import { parseLine } from '../../src/source/line.js';
import type { Row } from '../../src/table/schema.js';
import { writeBenchJsonl } from './records.js';

const NL = 0x0a;
/** Rows per hand-over message; at most IN_FLIGHT messages wait for the main thread. */
const HANDOVER_ROWS = 2000;
const IN_FLIGHT = 8;
/** Keys per assembled block (the daemon's default `buffer.maxRows`). */
const BLOCK_KEYS = 50_000;

/** Calls `line(buf, start, end)` for every line of the byte range [start, end) of a file. */
async function eachLine(file: string, start: number, end: number, line: (b: Buffer, s: number, e: number) => Promise<void> | void): Promise<void> {
  let carry: Buffer | undefined;
  for await (const chunk of createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 })) {
    const buf = carry ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let s = 0;
    for (let nl = buf.indexOf(NL); nl >= 0; nl = buf.indexOf(NL, s)) {
      if (nl > s) await line(buf, s, nl);
      s = nl + 1;
    }
    carry = s < buf.length ? Buffer.from(buf.subarray(s)) : undefined;
  }
  if (carry && carry.length > 0) await line(carry, 0, carry.length);
}

interface Handover {
  keys: Float64Array;
  positions: BigInt64Array;
  ops: Uint8Array;
  /** Avro data block content: version, count, then per row its length and datum. */
  block: Uint8Array;
}

// --- worker ------------------------------------------------------------------------

async function worker(): Promise<void> {
  const { file, start, end } = workerData as { file: string; start: number; end: number };
  const port = parentPort;
  if (port === null) throw new Error('not a worker');
  const ctx = createDecodeContext({ tracker: new SchemaTracker() });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    inFlight--;
    wake?.();
  });
  let schema = '';
  const keys: number[] = [];
  const positions: bigint[] = [];
  const ops: number[] = [];
  const rows: Row[] = [];
  const send = async (): Promise<void> => {
    if (rows.length === 0) return;
    while (inFlight >= IN_FLIGHT) await new Promise<void>((ok) => (wake = ok));
    const h: Handover = { keys: Float64Array.from(keys), positions: BigInt64Array.from(positions), ops: Uint8Array.from(ops), block: encodeAvroDataContent(schema, rows) };
    inFlight++;
    port.postMessage(h, [h.keys.buffer, h.positions.buffer, h.ops.buffer, h.block.buffer] as ArrayBuffer[]);
    keys.length = positions.length = ops.length = rows.length = 0;
  };
  let n = 0;
  await eachLine(file, start, end, async (b, s, e) => {
    const d = decodeRecord(parseLine(b, s, e), ctx);
    if (d.kind !== 'change' || d.event.key === null) throw new Error(`bench line decoded to ${d.kind}`);
    const ev = d.event;
    if (schema === '') schema = JSON.stringify(withCdcColumns(ev.schema));
    keys.push(Number(ev.key?.id));
    positions.push(ev.position.ordering);
    ops.push(ev.op.charCodeAt(0));
    rows.push(toMutation(ev).row);
    n++;
    if (rows.length >= HANDOVER_ROWS) await send();
  });
  await send();
  port.postMessage({ done: n });
  port.close();
}

// --- main --------------------------------------------------------------------------

function startWorker(data: { file: string; start: number; end: number }): Worker {
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

async function viaWorkers(file: string, workers: number, outDir: string): Promise<{ events: number; mainMs: number }> {
  const cuts = await ranges(file, workers);
  const winners = new Map<number, Winner>();
  let blocks = 0;
  let mainMs = 0;
  let events = 0;
  const assemble = async (): Promise<void> => {
    let bytes = 8;
    for (const w of winners.values()) bytes += (w.offsets[w.row + 1] as number) - (w.offsets[w.row] as number);
    const out = Buffer.allocUnsafe(bytes);
    out.writeInt32BE(3, 0);
    out.writeInt32BE(winners.size, 4);
    let p = 8;
    for (const w of winners.values()) {
      const s = w.offsets[w.row] as number;
      const e = w.offsets[w.row + 1] as number;
      out.set(w.block.subarray(s, e), p);
      p += e - s;
    }
    winners.clear();
    await fs.writeFile(path.join(outDir, `block-${blocks++ % 4}`), out);
  };
  let queue = Promise.resolve();
  await Promise.all(
    cuts.slice(0, -1).map(
      (start, i) =>
        new Promise<void>((resolve, reject) => {
          const w = startWorker({ file, start, end: cuts[i + 1] as number });
          w.on('error', reject);
          w.on('message', (m: Handover | { done: number }) => {
            if ('done' in m) return resolve();
            const t = performance.now();
            const offsets = rowOffsets(m.block);
            for (let r = 0; r < m.keys.length; r++) {
              const key = m.keys[r] as number;
              const position = m.positions[r] as bigint;
              const cur = winners.get(key);
              if (cur === undefined || position > cur.position) winners.set(key, { block: m.block, offsets, row: r, position });
            }
            events += m.keys.length;
            if (winners.size >= BLOCK_KEYS) queue = queue.then(assemble);
            w.postMessage(1);
            mainMs += performance.now() - t;
          });
        }),
    ),
  );
  await queue;
  if (winners.size > 0) await assemble();
  return { events, mainMs };
}

async function bare(file: string): Promise<number> {
  let n = 0;
  await eachLine(file, 0, (await fs.stat(file)).size, (b, s, e) => {
    if (JSON.parse(b.toString('utf8', s, e)) !== null) n++;
  });
  return n;
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { records: { type: 'string', default: '1000000' }, workers: { type: 'string', default: '1,2' }, rounds: { type: 'string', default: '2' } } });
  const M = Number(args.records);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdc-lake-bench-handover-'));
  const file = path.join(dir, 'records.jsonl');
  await writeBenchJsonl(file, M, 16, `bench.handover.${M}`);
  const sides = ['bare', ...(args.workers as string).split(',').map((w) => `workers-${w}`)];
  const ms: Record<string, number[]> = Object.fromEntries(sides.map((s) => [s, []]));
  const mainUs: Record<string, number[]> = {};
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const side of sides) {
      const t0 = performance.now();
      let n: number;
      if (side === 'bare') n = await bare(file);
      else {
        const res = await viaWorkers(file, Number(side.slice('workers-'.length)), dir);
        n = res.events;
        (mainUs[side] ??= []).push(+((res.mainMs * 1000) / n).toFixed(2));
      }
      const t = performance.now() - t0;
      if (n !== M) throw new Error(`${side} saw ${n} records, expected ${M}`);
      (ms[side] as number[]).push(Math.round(t));
      process.stderr.write(`round ${r + 1} ${side}: ${Math.round(t)} ms (load ${os.loadavg()[0]?.toFixed(1)})\n`);
    }
  }
  const best = (s: string): number => Math.min(...(ms[s] as number[]));
  const out: Record<string, unknown> = { bench: 'ingest/handover', records: M, cpus: os.cpus().length, node: process.version };
  for (const s of sides) out[s] = { ms: ms[s], perSec: Math.round((M / best(s)) * 1000), ...(s === 'bare' ? {} : { ratioToBare: +(best('bare') / best(s)).toFixed(2), mainThreadUsPerEvent: mainUs[s] }) };
  console.log(JSON.stringify(out, null, 2));
  await fs.rm(dir, { recursive: true, force: true });
}

if (isMainThread) await main();
else await worker();
