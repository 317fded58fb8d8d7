/**
 * End-to-end ingest benchmark (issue #5), every number from one run:
 *  (a) raw consume rate of the topic (bench/ingest/consume.ts, run as a child);
 *  (b) cdc-lake Pipeline + KafkaSource to a local folder and to the S3 server, each in a
 *      fresh child process, until the table's checkpoint covers the topic end;
 *  (c) peak RSS of the daemon as shipped: `cdc-lake run` from dist/ (built first) with its
 *      node flags and a config of defaults (local folder), VmHWM once it has read the topic
 *      and flushed everything (polled on /status); the (b) children print theirs too (they
 *      carry tsx's loader on top);
 *  (d) freshness: produce at a steady rate, p50/p99 from produce to visible in a query
 *      of the table (polled from this process), vs the flush age;
 *  (e) FileSource path (ingestFile) on the same records vs bare JSON.parse of the file.
 * `--schemas`: every part with the records as JsonConverter sends them by default (each
 * key and value beside its Connect schema), on a topic of their own.
 *
 *   node --import tsx bench/ingest/e2e.ts [--records 100000] [--partitions 16] [--rate 3000] [--seconds 30] [--only a,b,c,d,e] [--schemas]
 *
 * Needs the stack (KAFKA_BOOTSTRAP, AWS_ENDPOINT_URL_S3, CDC_LAKE_TEST_BUCKET; read from .stack/env if unset).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin, Producer } from '@platformatic/kafka';
import pino from 'pino';
import { stringify } from 'yaml';
import { ingestFile } from '../../src/cli/ingest.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging.js';
import { CHECKPOINT_KEY, decodeCheckpoint } from '../../src/pipeline/checkpoint.js';
import { discoverTables, lakeStore } from '../../src/pipeline/lake.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { KafkaSource } from '../../src/source/kafka.js';
import { LocalStore } from '../../src/storage/local-store.js';
import { readIncremental } from '../../src/table/reader.js';
import { HudiTable } from '../../src/table/table.js';
import { freePort } from '../../test/support/kafka-broker.js';
import { bareParse, changeRecord as plainRecord, withConnectSchema, writeBenchJsonl, type BenchRecord } from './records.js';
import { topicRecords } from './topic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    partitions: { type: 'string', default: '16' },
    rate: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '30' },
    only: { type: 'string', default: 'a,b,c,d,e' },
    child: { type: 'string' },
    topic: { type: 'string' },
    lake: { type: 'string' },
    file: { type: 'string' },
    schemas: { type: 'boolean', default: false },
  },
});
const M = Number(args.records);
const P = Number(args.partitions);

/** Record `i` of the stream, with its Connect schemas under `--schemas`. */
function changeRecord(i: number, partitions: number, tsMs?: number): BenchRecord {
  const r = plainRecord(i, partitions, tsMs);
  return args.schemas ? withConnectSchema(r) : r;
}

function stackEnv(): void {
  const file = path.join(root, '.stack', 'env');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m && process.env[m[1] as string] === undefined) process.env[m[1] as string] = m[2] as string;
  }
}
stackEnv();
const bootstrap = process.env.KAFKA_BOOTSTRAP;
if (!bootstrap) throw new Error('KAFKA_BOOTSTRAP is not set and .stack/env is missing: run npm run stack:up first');
const brokers = bootstrap.split(',');
const loadAvg = (): string => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const log = (s: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s} (load ${loadAvg()})\n`);

// --- producing --------------------------------------------------------------

async function createTopic(topic: string): Promise<boolean> {
  const admin = new Admin({ clientId: 'bench', bootstrapBrokers: brokers });
  try {
    if ((await admin.listTopics()).includes(topic)) return false;
    await admin.createTopics({ topics: [topic], partitions: P, replicas: 1 });
    return true;
  } finally {
    await admin.close();
  }
}

async function sendWithRetry(producer: Producer, messages: { topic: string; partition: number; key: Buffer; value: Buffer }[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await producer.send({ messages });
      return;
    } catch (e) {
      if (attempt > 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Fills a new topic with records 0..M-1 (an existing topic of that name is reused as is). */
async function produceAll(topic: string): Promise<void> {
  if (!(await createTopic(topic))) return log(`reusing topic ${topic}`);
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, autocreateTopics: false });
  const t0 = Date.now();
  for (let i = 0; i < M; i += 2000) {
    const messages = [];
    for (let j = i; j < Math.min(M, i + 2000); j++) {
      const r = changeRecord(j, P);
      messages.push({ topic, partition: r.partition, key: Buffer.from(r.key), value: Buffer.from(r.value) });
    }
    await sendWithRetry(producer, messages);
  }
  await producer.close();
  log(`produced ${M} records to ${topic} in ${Date.now() - t0} ms`);
}

// --- children -----------------------------------------------------------------

/** The node flags the CLI runs with (its shebang line), so the children's memory is the daemon's. */
function cliNodeFlags(): string[] {
  const first = readFileSync(path.join(root, 'src', 'cli', 'main.ts'), 'utf8').split('\n', 1)[0] ?? '';
  const words = first.split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

function runChild(argv: string[], env: NodeJS.ProcessEnv = {}): { done: Promise<string>; kill: () => void; output: () => string } {
  const child = spawn(process.execPath, [...cliNodeFlags(), '--import', 'tsx', ...argv], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`bench child ${argv.join(' ')} exited with ${code}; its stderr is above`))));
  });
  return { done, kill: () => child.kill('SIGTERM'), output: () => out };
}

const lastJson = (out: string): Record<string, unknown> => JSON.parse(out.slice(out.lastIndexOf('\n{') + 1)) as Record<string, unknown>;

function pipelineConfig(lake: string, topic: string) {
  return parseConfig({ lake: { uri: lake, s3: { pathStyle: true } }, kafka: { brokers, topics: [topic], groupId: `bench-e2e-${process.pid}` }, log: { level: 'warn' } }, process.env);
}

/**
 * Child: Pipeline + KafkaSource with default buffer settings until every record is
 * consumed (or SIGTERM in follow mode), then the final flush; prints rate and peak RSS.
 */
async function childPipeline(follow: boolean): Promise<void> {
  const topic = args.topic as string;
  const config = pipelineConfig(args.lake as string, topic);
  const store = lakeStore(config.lake);
  let lastCommitAt = 0;
  const pipeline = new Pipeline({
    store, config, logger: createLogger({ level: 'warn', destination: pino.destination(2) }),
    events: { onCommit: () => void (lastCommitAt = performance.now()) },
  });
  const source = new KafkaSource({ brokers, groupId: `bench-e2e-${process.pid}`, topics: [topic] });
  let firstAt = 0;
  let consumedAt = 0;
  let announced = false;
  const t0 = performance.now();
  // Stop once everything is consumed AND committed (buffers empty: the checkpoint covers the topic end);
  // the rate includes the last batch's wait for its age, as in a running daemon. run() closes the source.
  const stopper = setInterval(() => {
    if (firstAt === 0 && pipeline.summary.records > 0) firstAt = performance.now();
    if (consumedAt === 0 && pipeline.summary.records >= M) consumedAt = performance.now();
    if (follow && pipeline.joined && !announced) {
      announced = true;
      console.log('{"joined":true}');
    }
    if (!follow && consumedAt > 0 && pipeline.bufferState().every((b) => b.rows === 0)) source.stop();
  }, 20);
  if (follow) process.on('SIGTERM', () => source.stop());
  const summary = await pipeline.run(source, { tickMs: Math.min(1000, config.buffer.maxAgeMs) });
  const ms = lastCommitAt - t0;
  clearInterval(stopper);
  // The checkpoint of the table must cover the topic end (every partition's next offset).
  const ids = await discoverTables(store);
  const id = ids.find((t) => !t.id.startsWith('_cdc_lake'));
  let covered = -1;
  if (id !== undefined) {
    const table = await HudiTable.open(store, id.path);
    const text = await table.latestExtraMetadata(CHECKPOINT_KEY);
    if (text !== undefined) covered = [...decodeCheckpoint(text).splits.values()].reduce((a, s) => a + Number(s.next), 0);
  }
  const ru = process.resourceUsage();
  console.log(JSON.stringify({
    records: summary.records, changes: summary.changes, commits: summary.commits, deadLetters: summary.deadLetters,
    checkpointCoversRecords: covered, flushAgeMs: config.buffer.maxAgeMs,
    msToCoveringCommit: Math.round(ms), perSec: Math.round((summary.records / ms) * 1000),
    msToLastRecordConsumed: Math.round(consumedAt - t0), consumedPerSec: consumedAt > 0 ? Math.round((summary.records / (consumedAt - t0)) * 1000) : null,
    msFirstToLastRecord: Math.round(consumedAt - firstAt),
    cpuMs: Math.round((ru.userCPUTime + ru.systemCPUTime) / 1000), peakRssMiB: Math.round(ru.maxRSS / 1024), load: loadAvg(),
  }));
}

/** Child: the file path (ingestFile) next to bare JSON.parse of every line, alternating, twice. */
async function childFile(): Promise<void> {
  const file = args.file as string;
  const bare = async (): Promise<number> => {
    const t0 = performance.now();
    const n = await bareParse(file);
    if (n !== M) throw new Error(`bare parse saw ${n} lines of ${file}, expected ${M}`);
    return performance.now() - t0;
  };
  const ours = async (round: number): Promise<number> => {
    const lake = path.join(args.lake as string, `r${round}`);
    const t0 = performance.now();
    const s = await ingestFile({ fromFile: file, lake, quiet: true });
    const ms = performance.now() - t0;
    if (s.records !== M) throw new Error(`ingestFile read ${s.records} records of ${file}, expected ${M}`);
    await fs.rm(lake, { recursive: true, force: true });
    return ms;
  };
  const b: number[] = [];
  const o: number[] = [];
  for (let r = 0; r < 2; r++) {
    b.push(await bare());
    o.push(await ours(r));
    log(`file round ${r + 1}: bare ${Math.round(b[r] as number)} ms, ingestFile ${Math.round(o[r] as number)} ms`);
  }
  const bm = Math.min(...b);
  const om = Math.min(...o);
  console.log(JSON.stringify({ bareMs: b.map(Math.round), ingestMs: o.map(Math.round), barePerSec: Math.round((M / bm) * 1000), ingestPerSec: Math.round((M / om) * 1000), ratio: +(bm / om).toFixed(2), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), load: loadAvg() }));
}

// --- the daemon as shipped ---------------------------------------------------------

/** Peak RSS (VmHWM, MiB) of a running process; Linux only. */
async function peakRssMiB(pid: number): Promise<number> {
  const m = /VmHWM:\s+(\d+) kB/.exec(await fs.readFile(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Math.round(Number(m[1]) / 1024);
}

/**
 * (c): `cdc-lake run` compiled (dist/, built here) under its own node flags with a config
 * that sets only where to read and write; polls /status until every record of the topic is
 * read (its end offsets) and nothing is buffered, reads the process's VmHWM, then SIGTERM (exit 0 expected).
 */
async function daemonPeakRss(topic: string): Promise<Record<string, unknown>> {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed: (c) measures the compiled daemon');
  const total = await topicRecords(brokers, topic);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cdc-lake-bench-daemon-'));
  const port = await freePort();
  const configFile = path.join(dir, 'config.yaml');
  await fs.writeFile(configFile, stringify({
    lake: { uri: path.join(dir, 'lake') },
    kafka: { brokers, topics: [topic], groupId: `bench-daemon-${process.pid}-${Date.now()}` },
    server: { host: '127.0.0.1', port },
    log: { level: 'warn' },
  }));
  const t0 = performance.now();
  const child = spawn(process.execPath, [...cliNodeFlags(), path.join(root, 'dist', 'cli', 'main.js'), 'run', '--config', configFile], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  let status: { summary: { records: number; commits: number }; buffers: { rows: number }[] } | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    if (child.exitCode !== null) throw new Error(`cdc-lake run exited with ${child.exitCode} before reading the topic; its log is above`);
    try {
      status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as typeof status;
    } catch {
      continue; // not listening yet
    }
    if (status && status.summary.records >= total && status.buffers.every((b) => b.rows === 0)) break;
  }
  const ms = performance.now() - t0;
  const peak = await peakRssMiB(child.pid as number);
  child.kill('SIGTERM');
  const code = await exited;
  await fs.rm(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`cdc-lake run exited with ${code} after SIGTERM`);
  return { records: status.summary.records, commits: status.summary.commits, msFromStartToCaughtUp: Math.round(ms), perSecIncludingStartup: Math.round((status.summary.records / ms) * 1000), peakRssMiB: peak, target: 'peak RSS <= 512 MiB', load: loadAvg() };
}

// --- freshness ------------------------------------------------------------------

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

async function freshness(rate: number, seconds: number): Promise<Record<string, unknown>> {
  const topic = `bench.e2e.fresh.${process.pid}.${Date.now()}`;
  await createTopic(topic);
  const lake = path.join(os.tmpdir(), `cdc-lake-bench-fresh-${process.pid}`);
  await fs.rm(lake, { recursive: true, force: true });
  await fs.mkdir(lake, { recursive: true });
  const child = runChild(['bench/ingest/e2e.ts', '--child', 'follow', '--topic', topic, '--lake', lake, '--records', String(rate * seconds)]);
  process.on('exit', () => child.kill());
  const producer = new Producer({ clientId: 'bench', bootstrapBrokers: brokers, autocreateTopics: false });
  const total = rate * seconds;
  const delays: number[] = [];
  let stop = false;
  // Poller: each newly completed commit's rows, read by an incremental query; delay = seen − produced.
  const poller = (async () => {
    const store = new LocalStore(lake);
    let since = '00000000000000000';
    while (!stop) {
      await new Promise((r) => setTimeout(r, 100));
      // A new query opens the table, as `cdc-lake query` does (HudiTable.refresh() throws on a table with no commit yet).
      const id = (await discoverTables(store)).find((t) => !t.id.startsWith('_cdc_lake'));
      if (id === undefined) continue;
      const table = await HudiTable.open(store, id.path);
      const last = table.timeline.lastCompleted()?.timestamp;
      if (last === undefined || last <= since) continue;
      const res = await readIncremental(table, { since, until: last, columns: ['_cdc_source_ts_ms'] });
      const seen = Date.now();
      for (const r of res.rows) delays.push(seen - Number(r._cdc_source_ts_ms));
      since = last;
    }
  })();
  // Wait for the child's consumer to join before producing, so start-up and the join are not counted.
  while (!child.output().includes('"joined"')) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  log(`freshness: producing ${rate}/s for ${seconds} s to ${topic}`);
  const t0 = Date.now();
  const tickMs = 100;
  let sent = 0;
  let lagMs = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
    if (due > sent) {
      const messages = [];
      const now = Date.now();
      for (let j = sent; j < due; j++) {
        const r = changeRecord(j, P, now);
        messages.push({ topic, partition: r.partition, key: Buffer.from(r.key), value: Buffer.from(r.value) });
      }
      await sendWithRetry(producer, messages);
      sent = due;
    }
    lagMs = Math.max(lagMs, Date.now() - t0 - (sent / rate) * 1000);
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const producedMs = Date.now() - t0;
  await producer.close();
  await new Promise((r) => setTimeout(r, 15000));
  stop = true;
  await poller;
  child.kill();
  const childOut = lastJson(await child.done);
  await fs.rm(lake, { recursive: true, force: true });
  const flushAgeMs = pipelineConfig(lake, topic).buffer.maxAgeMs;
  return {
    rate, seconds, produced: sent, actualRate: Math.round((sent / producedMs) * 1000), maxProducerLagMs: Math.round(lagMs),
    rowsSeen: delays.length, flushAgeMs, p50Ms: quantile(delays, 0.5), p99Ms: quantile(delays, 0.99), maxMs: quantile(delays, 1),
    p99OverFlushAge: +(quantile(delays, 0.99) / flushAgeMs).toFixed(2), target: 'p99 <= 2 x flush age', child: childOut,
  };
}

// --- main -----------------------------------------------------------------------

async function main(): Promise<void> {
  const only = new Set((args.only as string).split(','));
  const topic = `bench.e2e.${M}.${P}${args.schemas ? '.schemas' : ''}`;
  const result: Record<string, unknown> = { bench: 'ingest/e2e', records: M, partitions: P, node: process.version, cpus: os.cpus().length, loadAtStart: loadAvg() };
  if (only.has('a') || only.has('b') || only.has('c')) await produceAll(topic);
  if (only.has('a')) {
    log('(a) raw consume rate');
    const out = await runChild(['bench/ingest/consume.ts', '--topic', topic, '--records', String(M), '--partitions', String(P), '--rounds', '1']).done;
    result.rawConsume = { ...(JSON.parse(out.slice(out.indexOf('{'))) as { best: unknown }).best as object, load: loadAvg() };
  }
  if (only.has('b')) {
    const local = path.join(os.tmpdir(), `cdc-lake-bench-e2e-${process.pid}`);
    await fs.rm(local, { recursive: true, force: true });
    log('(b) pipeline → local folder');
    result.local = lastJson(await runChild(['bench/ingest/e2e.ts', '--child', 'run', '--topic', topic, '--lake', local, '--records', String(M)]).done);
    await fs.rm(local, { recursive: true, force: true });
    const bucket = process.env.CDC_LAKE_TEST_BUCKET;
    if (bucket && process.env.AWS_ENDPOINT_URL_S3) {
      log('(b) pipeline → S3 server');
      result.s3 = lastJson(await runChild(['bench/ingest/e2e.ts', '--child', 'run', '--topic', topic, '--lake', `s3://${bucket}/bench-e2e-${process.pid}-${Date.now()}`, '--records', String(M)]).done);
    } else result.s3 = 'not measured: CDC_LAKE_TEST_BUCKET / AWS_ENDPOINT_URL_S3 unset';
  }
  if (only.has('c')) {
    log('(c) peak RSS of cdc-lake run (compiled, default settings)');
    result.daemon = await daemonPeakRss(topic);
  }
  if (only.has('e')) {
    log('(e) file source vs bare JSON.parse');
    const dir = path.join(os.tmpdir(), `cdc-lake-bench-file-${process.pid}`);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'records.jsonl');
    await writeBenchJsonl(file, M, P, topic, { schemas: args.schemas });
    result.file = { bytes: (await fs.stat(file)).size, ...lastJson(await runChild(['bench/ingest/e2e.ts', '--child', 'file', '--file', file, '--lake', path.join(dir, 'lake'), '--records', String(M)]).done) };
    await fs.rm(dir, { recursive: true, force: true });
  }
  if (only.has('d')) {
    log('(d) freshness');
    result.freshness = await freshness(Number(args.rate), Number(args.seconds));
  }
  result.loadAtEnd = loadAvg();
  console.log(JSON.stringify(result, null, 2));
}

if (args.child === 'run') await childPipeline(false);
else if (args.child === 'follow') await childPipeline(true);
else if (args.child === 'file') await childFile();
else await main();
