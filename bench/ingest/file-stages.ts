/**
 * File-path stage breakdown (issue #5 (e), for profiling): on the same JSONL file of
 * bench records, side by side in one process, alternating per round:
 *   bare      — read the file, JSON.parse every line (the (e) baseline);
 *   read      — FileSource batches only (line scanning, no decode);
 *   decode    — FileSource + decodeRecord with a SchemaTracker (no buffering, no table);
 *   ingest    — ingestFile (FileSource → Pipeline → table in a local folder).
 * Prints ms per stage (wall and CPU of this process: under load the CPU ms compare
 * better) and each stage's rate as a ratio of bare.
 *
 *   node --import tsx bench/ingest/file-stages.ts [--records 100000] [--rounds 2] [--only bare,read,decode,ingest]
 * Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/ingest/file-stages.ts --only ingest --rounds 1
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ingestFile } from '../../src/cli/ingest.js';
import { createDecodeContext, decodeRecord, SchemaTracker } from '../../src/debezium/index.js';
import { FileSource } from '../../src/source/file.js';
import { bareParse, writeBenchJsonl } from './records.js';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    partitions: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    only: { type: 'string', default: 'bare,read,decode,ingest' },
  },
});
const M = Number(args.records);
const P = Number(args.partitions);
const loadAvg = (): string => os.loadavg().map((l) => l.toFixed(1)).join(' ');

const noHooks = { onAssigned: async () => new Map<string, bigint>(), onRevoked: async () => {} };

async function read(file: string): Promise<number> {
  const src = new FileSource(file);
  await src.open(noHooks);
  let n = 0;
  for await (const b of src.batches()) n += b.records.length;
  return n;
}

async function decode(file: string): Promise<number> {
  const src = new FileSource(file);
  await src.open(noHooks);
  const ctx = createDecodeContext({ tracker: new SchemaTracker() });
  let n = 0;
  for await (const b of src.batches()) {
    for (const r of b.records) {
      const d = decodeRecord(r, ctx);
      if (d.kind !== 'change') throw new Error(`record ${r.topic}:${r.partition}@${r.offset} decoded to ${d.kind}`);
      n++;
    }
  }
  return n;
}

async function main(): Promise<void> {
  const dir = path.join(os.tmpdir(), `cdc-lake-bench-stages-${process.pid}`);
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'records.jsonl');
  await writeBenchJsonl(file, M, P, `bench.stages.${M}`);
  const stages: Record<string, (round: number) => Promise<number>> = {
    bare: () => bareParse(file),
    read: () => read(file),
    decode: () => decode(file),
    ingest: async (round) => {
      const lake = path.join(dir, `lake-${round}`);
      const s = await ingestFile({ fromFile: file, lake, quiet: true });
      await fs.rm(lake, { recursive: true, force: true });
      return s.records;
    },
  };
  const only = (args.only as string).split(',').filter((s) => s in stages);
  const ms: Record<string, number[]> = Object.fromEntries(only.map((s) => [s, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(only.map((s) => [s, []]));
  for (let r = 0; r < Number(args.rounds); r++) {
    for (const s of only) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const n = await (stages[s] as (round: number) => Promise<number>)(r);
      const t = performance.now() - t0;
      const c = process.cpuUsage(c0);
      (cpu[s] as number[]).push((c.user + c.system) / 1000);
      if (n !== M) throw new Error(`stage ${s} saw ${n} records, expected ${M}`);
      (ms[s] as number[]).push(t);
      process.stderr.write(`round ${r + 1} ${s}: ${Math.round(t)} ms, ${Math.round((cpu[s] as number[])[r] as number)} ms CPU (load ${loadAvg()})\n`);
    }
  }
  const best = (s: string): number => Math.min(...(ms[s] as number[]));
  const out: Record<string, unknown> = { bench: 'ingest/file-stages', records: M, bytes: (await fs.stat(file)).size, node: process.version, load: loadAvg() };
  for (const s of only) {
    const bestCpu = (x: string): number => Math.min(...(cpu[x] as number[]));
    out[s] = { ms: (ms[s] as number[]).map(Math.round), cpuMs: (cpu[s] as number[]).map(Math.round), ...(cpu.bare && s !== 'bare' ? { cpuRatioToBare: +(bestCpu('bare') / bestCpu(s)).toFixed(2) } : {}), perSec: Math.round((M / best(s)) * 1000), ...(ms.bare && s !== 'bare' ? { ratioToBare: +(best('bare') / best(s)).toFixed(2) } : {}) };
  }
  out.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(JSON.stringify(out, null, 2));
  await fs.rm(dir, { recursive: true, force: true });
}

await main();
