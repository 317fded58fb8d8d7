/** Spark-written Hudi fixtures (in `<repo>/../shared/fixtures/hudi/`), unzipped on demand for tests. */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Absolute path of `shared/fixtures/hudi`, next to the repository. */
export function sharedFixturesDir(): string {
  return fileURLToPath(new URL('../../../shared/fixtures/hudi/', import.meta.url));
}

// Extract, then print the single top-level folder (ignoring macOS resource forks).
const UNZIP = `
import sys, zipfile, shutil, os
zf = zipfile.ZipFile(sys.argv[1])
zf.extractall(sys.argv[2])
shutil.rmtree(os.path.join(sys.argv[2], '__MACOSX'), ignore_errors=True)
print('\\n'.join(sorted({n.split('/')[0] for n in zf.namelist() if not n.startswith('__MACOSX')})))
`;

const extracted = new Map<string, Promise<string>>();

/**
 * Unzips `<zipName>` (e.g. `sample_table__mor__parquet__v6_nonpartitioned.zip`) with python3's
 * zipfile module and returns the table's base path (the zip's single top-level folder).
 * The unzipped copy is shared between test processes under `<tmpdir>/cdc-lake-fixtures/`
 * (keyed by zip size and mtime, published by an atomic rename), so treat it as read-only:
 * copy it before modifying anything.
 */
export function extractHudiFixture(zipName: string): Promise<string> {
  let p = extracted.get(zipName);
  if (p === undefined) {
    p = extract(zipName);
    extracted.set(zipName, p);
  }
  return p;
}

async function extract(zipName: string): Promise<string> {
  const zip = join(sharedFixturesDir(), zipName);
  if (!existsSync(zip)) throw new Error(`fixture ${zip} does not exist; see shared/fixtures/hudi/README.md for the file names`);
  const st = statSync(zip);
  const root = join(tmpdir(), 'cdc-lake-fixtures');
  const final = join(root, `${basename(zipName, '.zip')}-${st.size}-${Math.trunc(st.mtimeMs)}`);
  const marker = join(final, '.top-level');
  if (!existsSync(marker)) {
    await mkdir(root, { recursive: true });
    const work = await mkdtemp(join(root, 'tmp-'));
    const { stdout } = await run('python3', ['-c', UNZIP, zip, work]);
    const tops = stdout.split('\n').filter((n) => n !== '');
    if (tops.length !== 1) throw new Error(`fixture ${zipName} has ${tops.length} top-level entries; expected one table folder`);
    await writeFile(join(work, '.top-level'), tops[0] as string);
    try {
      await rename(work, final);
    } catch {
      await rm(work, { recursive: true, force: true }); // another process published it first
    }
  }
  return join(final, (await readFile(marker, 'utf8')).trim());
}
