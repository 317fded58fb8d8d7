// Temporary directories of one test file, removed when the file's tests end.
//
// `node --test` runs each file in its own process, and an `after` hook made at
// module load sits on the file's root test: it runs once every test of the file
// has finished, passed or failed. A dir that one test leaves for a later one, or
// that a test inspects after a child process wrote it, so lives until then.
import { mkdtempSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const made = new Set<string>();

after(async () => {
  await Promise.all([...made].map((dir) => removeTempDir(dir)));
});

/** A new empty dir `<root>/<prefix>XXXXXX`, removed when the file's tests end. */
export async function tempDir(prefix: string, root = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(root, prefix));
  made.add(dir);
  return dir;
}

/** {@link tempDir} for synchronous callers. */
export function tempDirSync(prefix: string, root = tmpdir()): string {
  const dir = mkdtempSync(join(root, prefix));
  made.add(dir);
  return dir;
}

/** Removes a dir now rather than at the end of the file (a property test makes one per run). */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  made.delete(dir);
}
