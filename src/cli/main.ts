#!/usr/bin/env -S node --max-semi-space-size=8 --no-wasm-tier-up --no-wasm-dynamic-tiering --expose-gc
// Node flags for the daemon's memory (bench/RESULTS.md, 1M-record ingest):
// - The daemon buffers records for seconds, so most of what the young generation holds
//   survives into the old one: a nursery of 8 MiB (Node's default is 16) holds ~40 MiB
//   less at the same throughput.
// - Parquet is arrow-rs compiled to wasm (5 MB): V8's optimizing tier recompiled its hot
//   functions in the background at a cost of 20–40 MiB and measurable CPU, for no measured
//   gain in compactions or reads; the baseline compiler (Liftoff) runs them.
// - `gc` for compactions, which collect a file group's merge garbage before writing its
//   base file (src/table/compact-slice.ts): −40–80 MiB at a compaction's peak.
// Runs started as `node dist/cli/main.js` skip this line: the image runs the file itself.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { isUsageError, oneLine } from './errors.js';
import { demoCommand, ingestCommand } from './ingest.js';
import { queryCommand, tablesCommand, timelineCommand } from './query.js';
import { runCommand } from './run.js';
import { cleanCommand, compactCommand } from './maintenance.js';

/**
 * The `cdc-lake` command. Exit codes: 0 ok, 1 runtime error, 2 usage error;
 * errors go to stderr as one line that says what to do.
 */

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function formatOption(): Option {
  return new Option('--format <format>', 'output format: table (default on a terminal), jsonl (default when piped), csv, parquet, arrow');
}

export function program(): Command {
  const p = new Command('cdc-lake')
    .description('Debezium change streams from Kafka into Apache Hudi Merge-On-Read tables on S3 or a local folder')
    .version(version())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  p.command('run')
    .description('the daemon: read Debezium topics from Kafka and keep one Hudi table per source table')
    .option('--config <file>', 'YAML config (see config/local-stack.yaml); CDC_LAKE_* environment variables override it')
    .action((o: { config?: string }) => runCommand(o));

  p.command('demo')
    .description('replay a bundled Debezium sample into a local lake and query it (no Kafka or S3 needed)')
    .option('--lake <dir>', 'lake folder (wiped if it was made by an earlier demo)', 'cdc-lake-demo')
    .action((o: { lake: string }) => demoCommand(o));

  p.command('ingest')
    .description('apply a JSONL file of Kafka records (Debezium envelopes) to a lake; re-running it is idempotent')
    .requiredOption('--from-file <jsonl>', 'JSON lines {"topic","partition","offset","key","value"} or kcat -J output')
    .requiredOption('--lake <uri>', 'a path, file://… or s3://bucket/prefix')
    .option('--config <file>', 'YAML config (tables, buffer, source options)')
    .action((o: { fromFile: string; lake: string; config?: string }) => ingestCommand(o));

  p.command('tables')
    .description('list the tables of a lake')
    .requiredOption('--lake <uri>', 'a path, file://… or s3://bucket/prefix')
    .addOption(formatOption())
    .action((o: { lake: string; format?: string }) => tablesCommand(o));

  p.command('timeline')
    .description("list a table's instants (commits, compactions, cleans, rollbacks)")
    .requiredOption('--lake <uri>', 'a path, file://… or s3://bucket/prefix')
    .requiredOption('--table <schema.table>', 'the table')
    .option('--archived', 'also the completed instants moved to the archived timeline (.hoodie/archived), state "archived"')
    .addOption(formatOption())
    .action((o: { lake: string; table: string; format?: string; archived?: boolean }) => timelineCommand(o));

  p.command('compact')
    .description("merge a table's log files into new base files (the daemon does this by policy)")
    .requiredOption('--lake <uri>', 'a path, file://… or s3://bucket/prefix')
    .requiredOption('--table <schema.table>', 'the table')
    .action((o: { lake: string; table: string }) => compactCommand(o));

  p.command('clean')
    .description('remove file slices no retained instant needs (never what a registered consumer still has to read), then archive the timeline past them')
    .requiredOption('--lake <uri>', 'a path, file://… or s3://bucket/prefix')
    .requiredOption('--table <schema.table>', 'the table')
    .option('--retain <n>', 'completed commits that stay readable (time travel, incremental)', '20')
    .action((o: { lake: string; table: string; retain: string }) => cleanCommand(o));

  const q = p.command('query').description('read a table: snapshot, incremental or changes');
  const common = (c: Command): Command =>
    c
      .requiredOption('--lake <uri>', 'a path, file://… or s3://bucket/prefix')
      .requiredOption('--table <schema.table>', 'the table')
      .option('--columns <a,b,c>', 'only these columns')
      .option('--where <predicate>', 'keep rows where col=value (also != < <= > >=); repeatable; prunes partitions', collect)
      .option('--limit <n>', 'at most n rows')
      .option('--meta', 'add the _hoodie_* and _cdc_* columns')
      .addOption(formatOption())
      .option('--out <file>', 'write to a file instead of stdout (required for parquet)');
  common(q.command('snapshot').description('the table as of the latest (or a given) instant'))
    .option('--as-of <instant>', 'time travel to this instant')
    .option('--read-optimized', 'base files only (what compaction has merged)')
    .action((o) => queryCommand('snapshot', o));
  common(q.command('incremental').description('latest state of the rows changed in (since, until]'))
    .option('--since <instant>', 'exclusive start instant')
    .option('--until <instant>', 'inclusive end instant (default: latest)')
    .option('--consumer <name>', 'read since where this named consumer stopped, then record the new position')
    .action((o) => queryCommand('incremental', o));
  common(q.command('changes').description('every insert, update and delete committed in (since, until]'))
    .option('--since <instant>', 'exclusive start instant')
    .option('--until <instant>', 'inclusive end instant (default: latest)')
    .option('--consumer <name>', 'read since where this named consumer stopped, then record the new position')
    .action((o) => queryCommand('changes', o));
  return p;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; commander already printed its message.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    }
    process.stderr.write(`cdc-lake: ${oneLine(e)}\n`);
    return isUsageError(e) ? 2 : 1;
  }
}

process.exitCode = await main(process.argv);
