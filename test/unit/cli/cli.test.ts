import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import { LocalStore } from '../../../src/storage/local-store.js';
import { ARCHIVE_BATCH } from '../../../src/table/archiver.js';
import { compact } from '../../../src/table/compaction.js';
import { arrowToRows, readParquet } from '../../../src/table/parquet.js';
import type { TableSchema } from '../../../src/table/schema.js';
import { HudiTable } from '../../../src/table/table.js';
import { tempDir } from '../../support/temp.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');
const fixtures = resolve(repo, '../shared/fixtures/debezium');
const scenario = join(fixtures, 'scenario-two-tables.jsonl');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, maxBuffer: 64 << 20, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

async function cliBuffer(...args: string[]): Promise<Buffer> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), ...args], { cwd: repo, maxBuffer: 64 << 20, encoding: 'buffer' });
  return stdout;
}

const jsonl = (text: string) => text.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

async function expected(): Promise<Record<string, Record<string, unknown>[]>> {
  return (JSON.parse(await readFile(join(fixtures, 'expected-final-state.json'), 'utf8')) as { tables: Record<string, Record<string, unknown>[]> }).tables;
}

async function snapshot(lake: string, table: string): Promise<Record<string, unknown>[]> {
  const r = await cli('query', 'snapshot', '--lake', lake, '--table', table, '--format', 'jsonl');
  assert.equal(r.code, 0, r.stderr);
  return jsonl(r.stdout);
}

test('ingest of the two-table scenario yields the expected final state; a second ingest changes nothing', async () => {
  const lake = await tempDir('cdc-lake-cli-');
  const first = await cli('ingest', '--from-file', scenario, '--lake', lake);
  assert.equal(first.code, 0, first.stderr);
  const want = await expected();
  assert.deepEqual(await snapshot(lake, 'public.customers'), want['public.customers']);
  assert.deepEqual(await snapshot(lake, 'public.orders'), want['public.orders']);
  const timeline = async () => (await cli('timeline', '--lake', lake, '--table', 'public.orders', '--format', 'jsonl')).stdout;
  const before = await timeline();
  const again = await cli('ingest', '--from-file', scenario, '--lake', lake);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 table commits/);
  assert.equal(await timeline(), before);
  assert.deepEqual(await snapshot(lake, 'public.orders'), want['public.orders']);
});

test('the scenario ingested in many small files, one commit each, gives the same state (the guard works across commits)', async () => {
  const lake = await tempDir('cdc-lake-cli-');
  const lines = (await readFile(scenario, 'utf8')).trim().split('\n');
  for (let i = 0; i < lines.length; i += 7) {
    const part = join(lake, `part-${i}.jsonl`);
    await writeFile(part, lines.slice(i, i + 7).join('\n') + '\n');
    const r = await cli('ingest', '--from-file', part, '--lake', lake);
    assert.equal(r.code, 0, r.stderr);
  }
  const want = await expected();
  assert.deepEqual(await snapshot(lake, 'public.customers'), want['public.customers']);
  assert.deepEqual(await snapshot(lake, 'public.orders'), want['public.orders']);
});

test('ingest reads the source section of --config like the daemon: a keyless table lands with keyless all-columns', async () => {
  const file = join(fixtures, 'pg-no-primary-key.jsonl');
  const bare = await cli('ingest', '--from-file', file, '--lake', join(await tempDir('cli-keyless-'), 'lake'));
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, /4 records, 0 changes, 0 already in the lake, 3 dead letters/);
  const dir = await tempDir('cli-keyless-');
  const config = join(dir, 'config.yaml');
  await writeFile(config, 'lake:\n  uri: unused\nsource:\n  keyless: all-columns\n');
  const lake = join(dir, 'lake');
  const r = await cli('ingest', '--from-file', file, '--lake', lake, '--config', config);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /4 records, 3 changes, 0 already in the lake, 0 dead letters/);
  assert.ok((await snapshot(lake, 'inventory.audit_log')).length > 0);
});

test('output formats: csv, arrow and parquet carry the same rows', async () => {
  const lake = await tempDir('cdc-lake-cli-');
  assert.equal((await cli('ingest', '--from-file', scenario, '--lake', lake)).code, 0);
  const want = (await expected())['public.orders'] as Record<string, unknown>[];
  const csv = await cli('query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--format', 'csv');
  const [header, ...body] = csv.stdout.trim().split(/\r?\n/);
  assert.equal(header, 'order_id,customer_id,status,amount,note');
  assert.equal(body[0], '5002,2,CANCELLED,250.00,gift wrap');
  assert.equal(body.length, want.length);
  const ipc = await cliBuffer('query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--format', 'arrow');
  const arrow = tableFromIPC(ipc);
  assert.equal(arrow.numRows, want.length);
  assert.deepEqual(arrow.getChild('status')?.toArray(), want.map((r) => r.status));
  const out = join(lake, 'orders.parquet');
  assert.equal((await cli('query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--format', 'parquet', '--out', out)).code, 0);
  const rows = arrowToRows(readParquet(new Uint8Array(await readFile(out))));
  assert.deepEqual(rows.map((r) => r.order_id), want.map((r) => r.order_id));
  assert.deepEqual(rows.map((r) => r.amount), want.map((r) => r.amount));
});

test('usage errors exit 2 with a one-line message', async () => {
  const lake = await tempDir('cdc-lake-cli-');
  assert.equal((await cli('ingest', '--from-file', scenario, '--lake', lake)).code, 0);
  const cases: [string[], RegExp][] = [
    [['query', 'snapshot', '--lake', lake, '--table', 'public.nope'], /no table public\.nope .*tables: public\.customers, public\.orders/],
    [['query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--as-of', 'yesterday'], /not an instant time/],
    [['tables', '--lake', 'ftp://somewhere/lake'], /invalid lake URI/],
    [['query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--where', 'nope=1'], /unknown column "nope"/],
    [['query', 'bogus'], /.*/],
  ];
  for (const [args, msg] of cases) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  const bad = join(lake, 'bad.yaml');
  await writeFile(bad, 'lake:\n  uri: /tmp/x\nkafka:\n  topics: [a]\n');
  const r = await cli('run', '--config', bad);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /kafka\.brokers/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('--where filters rows and prunes; incremental with a named consumer advances', async () => {
  const lake = await tempDir('cdc-lake-cli-');
  assert.equal((await cli('ingest', '--from-file', scenario, '--lake', lake)).code, 0);
  const paid = await cli('query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--where', 'status=PAID', '--format', 'jsonl');
  assert.deepEqual(jsonl(paid.stdout).map((r) => r.order_id), [5004, 5006, 5007]);
  const first = await cli('query', 'incremental', '--lake', lake, '--table', 'public.orders', '--consumer', 'etl1', '--format', 'jsonl');
  assert.equal(jsonl(first.stdout).length, 5);
  const second = await cli('query', 'incremental', '--lake', lake, '--table', 'public.orders', '--consumer', 'etl1', '--format', 'jsonl');
  assert.equal(jsonl(second.stdout).length, 0);
});

test('demo runs every step on a fresh folder', async () => {
  const lake = join(await tempDir('cdc-lake-demo-'), 'lake');
  const r = await cli('demo', '--lake', lake);
  assert.equal(r.code, 0, r.stderr);
  for (const step of ['1. ingest part 1', '2. ingest part 2', '3. ingest part 2 again', '4. tables', '5. timeline', '6. snapshot of public.customers', '7. incremental', '8. changes', '9. read the same tables']) {
    assert.ok(r.stdout.includes(step), `missing step ${step}`);
  }
  assert.match(r.stdout, /"phone":"\+1-555-0105"/);
  assert.match(r.stdout, /"_change_op":"d","id":3/);
});

test('compact then clean keep the snapshot; read-optimized equals it after compaction', async () => {
  const lake = await tempDir('cdc-lake-cli-');
  const lines = (await readFile(scenario, 'utf8')).trim().split('\n');
  for (let i = 0; i < lines.length; i += 13) {
    const part = join(lake, `part-${i}.jsonl`);
    await writeFile(part, lines.slice(i, i + 13).join('\n') + '\n');
    assert.equal((await cli('ingest', '--from-file', part, '--lake', lake)).code, 0);
  }
  const want = (await expected())['public.orders'];
  const c = await cli('compact', '--lake', lake, '--table', 'public.orders');
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /compaction \d{17} merged/);
  assert.deepEqual(await snapshot(lake, 'public.orders'), want);
  const ro = await cli('query', 'snapshot', '--lake', lake, '--table', 'public.orders', '--read-optimized', '--format', 'jsonl');
  assert.deepEqual(jsonl(ro.stdout), want);
  const cl = await cli('clean', '--lake', lake, '--table', 'public.orders', '--retain', '1');
  assert.equal(cl.code, 0, cl.stderr);
  assert.match(cl.stdout, /clean \d{17} removed \d+ files/);
  assert.deepEqual(await snapshot(lake, 'public.orders'), want);
});

test('clean archives the timeline of a table with more instants than it retains (archival needs a clean: it moves only what cleaning dropped)', async () => {
  const lake = await tempDir('cdc-lake-cli-archive-');
  const table = await HudiTable.create(new LocalStore(lake), 's/t', { tableName: 't', database: 's', recordKeyFields: ['id'], orderingField: '_cdc_position', buckets: 1 });
  const schema: TableSchema = { type: 'record', name: 't', fields: [{ name: 'id', type: ['null', 'long'], default: null }, { name: '_cdc_position', type: ['null', 'long'], default: null }] };
  for (let i = 1; i <= ARCHIVE_BATCH + 5; i++) {
    await table.commit({ schema, mutations: [{ kind: 'upsert', ordering: BigInt(i), row: { id: i % 3, _cdc_position: i } }] });
    if (i % 5 === 0) await compact(table); // old slices, for cleaning to remove
  }
  const cl = await cli('clean', '--lake', lake, '--table', 's.t', '--retain', '1');
  assert.equal(cl.code, 0, cl.stderr);
  assert.match(cl.stdout, /s\.t: archived \d+ instants to .*\.hoodie\/archived\/\.commits_\.archive\.1_1-0-1; the active timeline starts at \d{17}/);
  const tl = await cli('timeline', '--lake', lake, '--table', 's.t', '--format', 'jsonl');
  const active = jsonl(tl.stdout);
  assert.ok(active.length < ARCHIVE_BATCH, 'the timeline lists the active instants');
  assert.equal(tl.stderr, `s.t: instants before ${String(active[0]?.instant)} were archived to .hoodie/archived (Hudi's archived timeline); --archived lists them too\n`);
  const all = jsonl((await cli('timeline', '--lake', lake, '--table', 's.t', '--format', 'jsonl', '--archived')).stdout);
  const archived = all.filter((r) => r.state === 'archived');
  assert.deepEqual(all.slice(archived.length), active, 'archived instants come first, then the active timeline');
  assert.ok(archived.length > 0 && archived.every((r) => String(r.instant) < String(active[0]?.instant)));
  assert.ok(archived.some((r) => r.action === 'deltacommit' && r.operation === 'UPSERT' && Number(r.records) === 1 && Number(r.files) === 1), JSON.stringify(archived[0]));
  assert.ok(archived.some((r) => r.action === 'compaction' && r.operation === 'COMPACT'));
});
