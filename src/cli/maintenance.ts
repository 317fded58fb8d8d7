import { openLakeTable } from '../pipeline/lake.js';
import { archiveTable, cleanTable, compactTable } from '../pipeline/maintenance.js';
import { lakeStore } from './query.js';
import { UsageError } from './errors.js';
import { progress } from './progress.js';

/** `compact` and `clean`: the daemon's maintenance, on demand. */

export async function compactCommand(flags: { lake: string; table: string }): Promise<void> {
  const table = await openLakeTable(lakeStore(flags.lake), flags.table);
  await table.recover();
  const bar = progress(`compact ${flags.table}`);
  const r = await compactTable(table, undefined, (done, total) => bar.update(done, total));
  bar.end();
  process.stdout.write(
    r.instant === undefined
      ? `${flags.table}: nothing to compact (no file group has log files)\n`
      : `${flags.table}: compaction ${r.instant} merged ${r.logFilesCompacted} log files into ${r.fileGroups} base files (${r.rowsWritten} rows, ${r.bytesWritten} bytes)\n`,
  );
}

export async function cleanCommand(flags: { lake: string; table: string; retain: string }): Promise<void> {
  const retain = Number(flags.retain);
  if (!Number.isSafeInteger(retain) || retain < 1) throw new UsageError(`--retain ${flags.retain} must be a positive integer (commits to keep readable)`);
  const table = await openLakeTable(lakeStore(flags.lake), flags.table);
  await table.recover();
  const r = await cleanTable(table, retain);
  const held = r.heldBackBy ? `; consumer ${r.heldBackBy} holds older instants` : '';
  process.stdout.write(
    r.instant === undefined
      ? `${flags.table}: nothing to clean (earliest retained instant ${r.earliestRetained ?? 'n/a'}${held})\n`
      : `${flags.table}: clean ${r.instant} removed ${r.files.length} files; instants from ${r.earliestRetained} on stay readable${held}\n`,
  );
  const a = await archiveTable(table, retain);
  if (a.instants > 0) process.stdout.write(`${flags.table}: archived ${a.instants} instants to ${a.file}; the active timeline starts at ${a.boundary}\n`);
}
