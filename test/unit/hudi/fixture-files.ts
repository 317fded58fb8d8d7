/** Lists files of the Spark-written fixture tables for the codec tests. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { extractHudiFixture, sharedFixturesDir } from '../../support/fixtures.js';

export const V6_ZIPS = [
  'quickstart_trips_table__mor__avro__v6_trips_8i1u.zip',
  'quickstart_trips_table__mor__avro__v6_trips_8i3d.zip',
  'sample_table__cow__v6_nonpartitioned.zip',
  'sample_table__mor__parquet__v6_complexkeygen_hivestyle.zip',
  'sample_table__mor__parquet__v6_empty.zip',
  'sample_table__mor__parquet__v6_nonpartitioned.zip',
  'sample_table__mor__parquet__v6_nonpartitioned_rollback.zip',
  'sample_table__mor__parquet__v6_simplekeygen_nonhivestyle.zip',
];

export function allZips(): string[] {
  return readdirSync(sharedFixturesDir()).filter((f) => f.endsWith('.zip')).sort();
}

export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

export interface FixtureTable {
  zip: string;
  base: string;
  /** Paths relative to the base. */
  files: string[];
}

export async function fixtureTable(zip: string): Promise<FixtureTable> {
  const base = await extractHudiFixture(zip);
  return { zip, base, files: walk(base).map((p) => relative(base, p)).sort() };
}

/** Data log files of a table (not the v8 metadata table's). */
export function dataLogFiles(t: FixtureTable): string[] {
  return t.files.filter((f) => /(^|\/)\.[^/]+\.log\.\d+_/.test(f) && !f.startsWith('.hoodie/'));
}

export function standaloneLogFiles(): string[] {
  return walk(join(sharedFixturesDir(), 'log_files')).sort();
}
