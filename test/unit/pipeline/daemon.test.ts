import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { SchemaRegistryError } from '../../../src/debezium/schema-registry.js';
import { createLogger } from '../../../src/logging.js';
import { Daemon, outageOf } from '../../../src/pipeline/daemon.js';
import { FileSource } from '../../../src/source/file.js';
import { parseLineSlow } from '../../../src/source/line.js';
import { splitId, type RecordBatch, type SplitId } from '../../../src/source/record.js';
import type { Source, SourceHooks } from '../../../src/source/source.js';
import { FaultyStore, InjectedFault } from '../../../src/storage/faulty-store.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { StorageError, type ObjectStore } from '../../../src/storage/object-store.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { tempDir } from '../../support/temp.js';
import { loadJson } from '../debezium/fixtures.js';

const scenario = resolve(import.meta.dirname, '../../../../shared/fixtures/debezium/scenario-two-tables.jsonl');

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  assert.ok(line, `${name} with ${labels} is reported`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

function total(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('the daemon reports what it did in /metrics: records in/out, commits, files, dead letters', async () => {
  const dir = await tempDir('cdc-lake-daemon-');
  const input = join(dir, 'in.jsonl');
  // The scenario plus one record that is not a Debezium envelope.
  await writeFile(input, (await readFile(scenario, 'utf8')) + '{"topic":"shop.public.orders","partition":0,"offset":99,"key":{"order_id":1},"value":{"nope":1}}\n');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const daemon = new Daemon({ config, logger, source: () => new FileSource(input) });
  const summary = await daemon.start();
  assert.equal(summary.deadLetters, 1);
  const text = await daemon.metrics.registry.metrics();
  assert.equal(metric(text, 'cdc_lake_records_in_total', 'table="public.orders"'), 20);
  assert.equal(metric(text, 'cdc_lake_records_out_total', 'table="public.orders"') > 0, true);
  assert.equal(metric(text, 'cdc_lake_commits_total', 'table="public.customers",action="deltacommit"'), 1);
  assert.ok(metric(text, 'cdc_lake_files_written_total', 'table="public.orders",kind="base"') >= 1);
  assert.ok(metric(text, 'cdc_lake_bytes_written_total', 'table="public.orders",kind="base"') > 0);
  assert.equal(total(text, 'cdc_lake_decode_errors_total'), 1);
  assert.equal(total(text, 'cdc_lake_dead_letters_total'), 1);
  assert.ok(total(text, 'cdc_lake_key_index_bytes') > 0, 'the key index gauge reports the writers\' indexes');
  assert.equal(total(text, 'cdc_lake_key_index_dropped_groups_total'), 0);
  // Nothing stays buffered after the run (the gauge appears once a tick saw data, and then reads 0).
  assert.equal(total(text, 'cdc_lake_buffer_rows'), 0);
});

/**
 * A consumer-group member as the daemon sees it: it delivers the scenario, then waits
 * (like Kafka) until stopped; it logs what the daemon asks of it and, when the daemon
 * closes it (leaves the group), what the lake holds by then.
 */
class MemberSource implements Source {
  readonly log: string[] = [];
  private hooks: SourceHooks | undefined;
  private stopped = false;
  private wake: () => void = () => undefined;
  private deliveredAll: () => void = () => undefined;
  private readonly delivered = new Promise<void>((r) => (this.deliveredAll = r));
  constructor(
    private readonly batchesToDeliver: RecordBatch[],
    private readonly atClose: () => Promise<string>,
  ) {}
  async open(hooks: SourceHooks): Promise<void> {
    this.hooks = hooks;
    await hooks.onAssigned([...new Set(this.batchesToDeliver.map((b) => b.split))]);
  }
  async *batches(): AsyncIterable<RecordBatch> {
    for (const b of this.batchesToDeliver) yield b;
    this.deliveredAll();
    while (!this.stopped) await new Promise<void>((r) => (this.wake = r));
  }
  /** Resolves once every batch was handed over (and the one before it consumed). */
  allDelivered(): Promise<void> {
    return this.delivered;
  }
  pause(): void {}
  resume(): void {}
  async commitOffsets(offsets: Map<SplitId, bigint>): Promise<void> {
    this.log.push(`offsets ${[...offsets.keys()].sort().join(',')}`);
  }
  stop(): void {
    this.log.push('stop');
    this.stopped = true;
    this.wake();
  }
  async close(): Promise<void> {
    assert.ok(this.hooks, 'opened before closed');
    this.log.push(`close (lake: ${await this.atClose()})`);
    if (!this.stopped) this.stop();
  }
}

/** The scenario as one batch per split. */
async function scenarioBatches(): Promise<RecordBatch[]> {
  const bySplit = new Map<SplitId, RecordBatch>();
  for (const line of (await readFile(scenario, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const r = parseLineSlow(line);
    const s = splitId(r.topic, r.partition);
    const b = bySplit.get(s) ?? { split: s, records: [], nextOffset: 0n };
    b.records.push(r);
    b.nextOffset = r.offset + 1n;
    bySplit.set(s, b);
  }
  return [...bySplit.values()];
}

test('a graceful stop stops fetching, flushes and commits (and reports group offsets), and only then leaves the group', async () => {
  const dir = await tempDir('cdc-lake-daemon-stop-');
  // Nothing is due before the stop: what the lake holds at close() was committed by the stop.
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, buffer: { maxAgeMs: 600_000 }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  let daemon: Daemon | undefined;
  const source = new MemberSource(await scenarioBatches(), async () => {
    const tables = [];
    for (const t of ['public/customers', 'public/orders']) {
      if (await HudiTable.exists((daemon as Daemon).store, t)) tables.push(`${t} ${(await HudiTable.open((daemon as Daemon).store, t)).timeline.completed().length}`);
    }
    return tables.join(', ') || 'empty';
  });
  daemon = new Daemon({ config, logger, source: () => source });
  const running = daemon.start();
  await source.allDelivered();
  assert.equal(daemon.pipeline.summary.commits, 0, 'nothing committed before the stop');
  daemon.stop();
  const summary = await running;
  assert.equal(summary.commits, 2);
  assert.deepEqual(source.log, [
    'stop',
    'offsets shop.public.orders:0,shop.public.orders:1',
    'offsets shop.public.customers:0',
    'close (lake: public/customers 1, public/orders 1)',
  ]);
});

test('a source that cannot leave its group (brokers gone) after the final commits does not fail the stop: a warning says so', async () => {
  const dir = await tempDir('cdc-lake-daemon-stop-');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, buffer: { maxAgeMs: 600_000 }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {});
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
  const source = new MemberSource(await scenarioBatches(), async () => {
    throw new Error('metadata failed 6 times');
  });
  const daemon = new Daemon({ config, logger, source: () => source });
  const running = daemon.start();
  await source.allDelivered();
  daemon.stop();
  assert.equal((await running).commits, 2, 'the run resolves with its commits');
  assert.ok(lines.some((l) => l.includes('closing the source failed') && l.includes('metadata failed 6 times')), lines.join(''));
});

/** The first log line holding `text`, once the daemon has logged it (5 s at most). */
async function logged(lines: readonly string[], text: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = lines.find((l) => l.includes(text));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`no log line with "${text}": ${lines.join('')}`);
}

async function snapshots(store: ObjectStore): Promise<string[]> {
  const rows: string[] = [];
  for (const t of ['public/customers', 'public/orders']) {
    for (const r of (await readSnapshot(await HudiTable.open(store, t))).rows) rows.push(`${t} ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  return rows.sort();
}

test('a storage outage past its retries restarts the pipeline after a backoff, not the process: /readyz says so meanwhile, and the tables end as a clean run leaves them', { timeout: 60_000 }, async () => {
  const dir = await tempDir('cdc-lake-daemon-outage-');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, buffer: { maxAgeMs: 50 }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'info' } }, {});
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
  // The 8th write is inside the first commit (after the table and its requested instant); the next run finds storage back.
  const store = new FaultyStore(new LocalStore(join(dir, 'lake')), { at: 8, when: 'before', action: 'outage' });
  const sources: MemberSource[] = [];
  const batches = await scenarioBatches();
  const daemon = new Daemon({ config, logger, store, source: () => (sources[sources.length] = new MemberSource(batches, async () => '')) });
  const running = daemon.start();
  let summary: Awaited<typeof running>;
  try {
    const url = (JSON.parse(await logged(lines, 'operations server listening')) as { url: string }).url;
    const stopped = JSON.parse(await logged(lines, 'the pipeline stopped')) as { cause: string; attempt: number; retryInMs: number; err: string };
    assert.equal(stopped.cause, 'storage');
    assert.equal(stopped.attempt, 1);
    assert.ok(stopped.retryInMs >= 500 && stopped.retryInMs <= 1000, `first restart waits 0.5–1 s: ${stopped.retryInMs}`);
    assert.match(stopped.err, /injected fault before mutating call #8/);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /storage outage and restarts \(attempt 1\)/);
    // The second run (a new source, as a new consumer would be) commits both tables.
    for (let i = 0; i < 200 && (sources.length < 2 || daemon.pipeline.summary.commits < 2); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(sources.length, 2, 'one new source for the restart');
    assert.equal(daemon.pipeline.summary.commits, 2);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    assert.match(await (await fetch(`${url}/metrics`)).text(), /cdc_lake_pipeline_restarts_total\{cause="storage"\} 1/);
  } finally {
    daemon.stop();
    summary = await running;
  }
  assert.equal(summary.commits, 2);
  assert.equal(summary.records, 2 * batches.reduce((n, b) => n + b.records.length, 0), 'the records of both runs are counted');
  // Against a clean run of the same records.
  const clean = join(dir, 'clean');
  const reference = new Daemon({ config: parseConfig({ lake: { uri: clean }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {}), logger, source: () => new FileSource(scenario) });
  await reference.start();
  assert.deepEqual(await snapshots(store), await snapshots(new LocalStore(clean)));
});

test('a failure restarting cannot fix (a storage error that is no outage) still ends the daemon with that error', { timeout: 60_000 }, async () => {
  const dir = await tempDir('cdc-lake-daemon-refused-');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, buffer: { maxAgeMs: 50 }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const store = new FaultyStore(new LocalStore(join(dir, 'lake')), { at: 8, when: 'before', action: 'throw' });
  const batches = await scenarioBatches();
  let made = 0;
  const daemon = new Daemon({ config, logger, store, source: () => (made++, new MemberSource(batches, async () => '')) });
  await assert.rejects(daemon.start(), InjectedFault);
  assert.equal(made, 1, 'no restart');
});

test('a graceful stop while the pipeline waits to restart after an outage ends the wait and the daemon', { timeout: 60_000 }, async () => {
  const dir = await tempDir('cdc-lake-daemon-outage-stop-');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, buffer: { maxAgeMs: 50 }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'info' } }, {});
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
  const batches = await scenarioBatches();
  let made = 0;
  const daemon = new Daemon({ config, logger, store: new FaultyStore(new LocalStore(join(dir, 'lake')), { at: 1, when: 'before', action: 'outage' }), source: () => (made++, new MemberSource(batches, async () => '')) });
  const running = daemon.start();
  const { retryInMs } = JSON.parse(await logged(lines, 'the pipeline stopped')) as { retryInMs: number };
  const t0 = performance.now();
  daemon.stop();
  const summary = await running;
  assert.ok(performance.now() - t0 < retryInMs, 'the stop did not wait for the restart');
  assert.equal(made, 1, 'no new run after the stop');
  assert.equal(summary.commits, 0);
});

test('outageOf: storage and registry failures that outlasted their retries, found through causes; refusals and other errors are not', () => {
  const uri = 's3://b/lake';
  assert.equal(outageOf(new StorageError('put', 'k', uri, new Error('ECONNRESET'), true)), 'storage');
  assert.equal(outageOf(new Error('commit of public.orders failed', { cause: new StorageError('put', 'k', uri, new Error('503'), true) })), 'storage');
  assert.equal(outageOf(new StorageError('put', 'k', uri, new Error('AccessDenied'))), undefined);
  assert.equal(outageOf(new SchemaRegistryError(5, 'http://r/schemas/ids/5', 503, 'HTTP 503')), 'schema-registry');
  assert.equal(outageOf(new SchemaRegistryError(5, 'http://r/schemas/ids/5', null, 'fetch failed')), 'schema-registry');
  assert.equal(outageOf(new SchemaRegistryError(5, 'http://r/schemas/ids/5', 401, 'HTTP 401')), undefined, 'refused credentials: waiting cannot fix them');
  assert.equal(outageOf(new SchemaRegistryError(5, 'http://r/schemas/ids/5', 404, 'HTTP 404')), undefined);
  assert.equal(outageOf(new TypeError('x is undefined')), undefined);
});

test('a schema registry failing through its retries restarts the pipeline, which decodes the Avro record once the registry is back', { timeout: 60_000 }, async () => {
  const fx = loadJson<{ topic: string; registry_response: Record<string, { id: number; schema: string }>; key_wire_example: { hex: string }; value_wire_example: { base64: string } }>('pg-many-types.avro-schemas.json');
  let failing = 5; // the client's 1 + 4 attempts for the first id
  const registry = createServer((req, res) => {
    const id = Number(/\/schemas\/ids\/(\d+)$/.exec(req.url ?? '')?.[1]);
    const entry = Object.values(fx.registry_response).find((e) => e.id === id);
    if (failing > 0) {
      failing--;
      res.writeHead(503).end('restarting');
    } else if (entry) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ schema: entry.schema }));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => registry.listen(0, '127.0.0.1', r));
  const dir = await tempDir('cdc-lake-daemon-registry-');
  try {
    const url = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
    const config = parseConfig({ lake: { uri: join(dir, 'lake') }, source: { schemaRegistry: { url } }, buffer: { maxAgeMs: 50 }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'info' } }, {});
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const split = splitId(fx.topic, 0);
    const record = { topic: fx.topic, partition: 0, offset: 0n, key: Buffer.from(fx.key_wire_example.hex, 'hex'), value: Buffer.from(fx.value_wire_example.base64, 'base64') };
    let made = 0;
    const daemon = new Daemon({ config, logger, source: () => (made++, new MemberSource([{ split, records: [record], nextOffset: 1n }], async () => '')) });
    const running = daemon.start();
    try {
      for (let i = 0; i < 400 && daemon.pipeline.summary.commits < 1; i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      daemon.stop();
    }
    const summary = await running;
    const stopped = lines.map((l) => JSON.parse(l) as { msg: string; cause?: string }).filter((l) => l.msg.startsWith('the pipeline stopped'));
    assert.deepEqual(stopped.map((l) => l.cause), ['schema-registry']);
    assert.equal(made, 2);
    assert.equal(summary.deadLetters, 0, 'an outage is waited out, not dead-lettered');
    assert.equal(summary.commits, 1);
  } finally {
    registry.close();
  }
});
