import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseConfig, parseConfigText, type Config } from '../config/index.js';
import { createLogger, type Logger } from '../logging.js';
import { Pipeline, type RunSummary } from '../pipeline/pipeline.js';
import { discoverTables, lakeStore } from '../pipeline/lake.js';
import { FileSource } from '../source/file.js';
import { openStore } from '../storage/open-store.js';
import { UsageError } from './errors.js';
import { progress } from './progress.js';
import { queryCommand, timelineCommand, tablesCommand } from './query.js';

/** `ingest --from-file` and `demo`: the daemon's pipeline fed from a JSONL file. */

export interface IngestFlags {
  fromFile: string;
  lake: string;
  config?: string;
  quiet?: boolean;
}

/** The config for file commands: the optional file, with the lake taken from --lake. */
export function fileCommandConfig(lake: string, configPath?: string): Config {
  let value: Record<string, unknown> = {};
  if (configPath !== undefined) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --config ${configPath}: ${(e as Error).message}`);
    }
    value = parseConfigText(text, configPath);
  }
  const lakeSection = (value.lake as Record<string, unknown> | undefined) ?? {};
  return parseConfig({ ...value, lake: { ...lakeSection, uri: lake } }, process.env, configPath);
}

function stderrLogger(config: Config, quiet: boolean): Logger {
  return createLogger({ level: quiet ? 'warn' : config.log.level, destination: pino.destination(2) });
}

export async function ingestFile(flags: IngestFlags): Promise<RunSummary> {
  if (!existsSync(flags.fromFile)) throw new UsageError(`--from-file ${flags.fromFile} does not exist`);
  const config = fileCommandConfig(flags.lake, flags.config);
  const logger = stderrLogger(config, flags.quiet === true);
  const store = lakeStore(config.lake);
  // A file is read to its end: buffer everything and commit once per table (age never forces a flush).
  const pipeline = new Pipeline({ store, config: { ...config, buffer: { ...config.buffer, maxAgeMs: Number.MAX_SAFE_INTEGER } }, logger });
  const bar = flags.quiet ? undefined : progress(`ingest ${flags.fromFile}`);
  const source = new FileSource(flags.fromFile, { onProgress: (p) => bar?.update(p.bytesRead, p.totalBytes) });
  try {
    return await pipeline.run(source);
  } finally {
    bar?.end();
  }
}

export async function ingestCommand(flags: IngestFlags): Promise<void> {
  const s = await ingestFile(flags);
  process.stdout.write(
    `ingested ${flags.fromFile}: ${s.records} records, ${s.changes} changes, ${s.skippedByCheckpoint} already in the lake, ${s.deadLetters} dead letters, ${s.commits} table commits\n`,
  );
}

const DEMO_MARKER = '.cdc-lake-demo';

function samplesDir(): string {
  return fileURLToPath(new URL('../../samples/demo/', import.meta.url));
}

async function prepareDemoLake(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
      throw new UsageError(`--lake ${dir} is not empty and was not made by the demo; choose a new folder`);
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(resolve(dir, DEMO_MARKER), 'made by `cdc-lake demo`; safe to delete\n');
}

function step(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

export async function demoCommand(flags: { lake?: string }): Promise<void> {
  const lake = resolve(flags.lake ?? 'cdc-lake-demo');
  await prepareDemoLake(lake);
  const format = process.stdout.isTTY ? 'table' : 'jsonl';
  process.stdout.write(`cdc-lake demo: replaying a bundled Debezium sample (PostgreSQL, two tables) into ${lake}\n`);

  step('1. ingest part 1 (initial snapshot + first changes) -> one commit per table');
  await ingestCommand({ fromFile: resolve(samplesDir(), 'part1.jsonl'), lake, quiet: true });
  const store = openStore(lake);
  const firstCommit = new Map<string, string>();
  for (const t of await discoverTables(store)) {
    const { HudiTable } = await import('../table/table.js');
    const table = await HudiTable.open(store, t.path);
    firstCommit.set(t.id, table.timeline.lastCompleted()?.timestamp ?? '');
  }

  step('2. ingest part 2 (updates, deletes, replays, out-of-order partitions, ADD COLUMN phone) -> second commit');
  await ingestCommand({ fromFile: resolve(samplesDir(), 'part2.jsonl'), lake, quiet: true });

  step('3. ingest part 2 again: already in the lake, nothing changes (exactly once)');
  await ingestCommand({ fromFile: resolve(samplesDir(), 'part2.jsonl'), lake, quiet: true });

  step('4. tables');
  await tablesCommand({ lake, format });

  step('5. timeline of public.customers');
  await timelineCommand({ lake, table: 'public.customers', format });

  for (const table of ['public.customers', 'public.orders']) {
    step(`6. snapshot of ${table}`);
    await queryCommand('snapshot', { lake, table, format });
  }

  const since = firstCommit.get('public.customers') ?? '';
  step(`7. incremental query of public.customers since the first commit (${since}): rows changed after it`);
  await queryCommand('incremental', { lake, table: 'public.customers', since, format });

  step(`8. changes of public.customers since the first commit: every insert/update/delete`);
  await queryCommand('changes', { lake, table: 'public.customers', since, format });

  step('9. read the same tables with other Hudi engines');
  process.stdout.write(
    [
      `hudi-rs (pip install hudi pyarrow):`,
      `  python3 -c "from hudi import HudiTableBuilder; t = HudiTableBuilder.from_base_uri('${lake}/public/customers').build(); import pyarrow as pa; print(pa.Table.from_batches(t.read_snapshot()).to_pandas())"`,
      `Spark 3.5 with the Hudi 0.15 bundle:`,
      `  spark.read.format("hudi").load("${lake}/public/orders").show()`,
      `  spark.read.format("hudi").option("hoodie.datasource.query.type", "incremental").option("hoodie.datasource.read.begin.instanttime", "${since}").load("${lake}/public/customers").show()`,
      `The CLI: npx cdc-lake query snapshot --lake ${lake} --table public.orders --format csv`,
      '',
    ].join('\n'),
  );
}
