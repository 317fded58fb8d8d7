// The temp dirs of a test file outlive its tests (a later test or a check after a
// child process may read them) and are gone once the file's run has ended.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { removeTempDir, tempDir } from '../../support/temp.js';

const repo = resolve(import.meta.dirname, '../../..');
const temp = join(repo, 'test/support/temp.ts');

/** A test file whose tests make dirs in `root`, print them, and check they still exist in a later test. */
function probe(root: string): string {
  return `
    import { existsSync } from 'node:fs';
    import { describe, it, test } from 'node:test';
    import { tempDir, tempDirSync } from ${JSON.stringify(temp)};
    const dirs = [];
    describe('suite', () => {
      it('makes dirs', async () => {
        dirs.push(await tempDir('probe-a-', ${JSON.stringify(root)}), tempDirSync('probe-b-', ${JSON.stringify(root)}));
      });
    });
    test('they live until the file ends', () => {
      for (const d of dirs) if (!existsSync(d)) throw new Error('gone early: ' + d);
      console.log('DIRS ' + JSON.stringify(dirs));
    });
    test('a failing test does not keep them', () => {
      throw new Error('deliberate');
    });
  `;
}

test('dirs made by a test file are removed when its tests end, failed or not', async () => {
  const root = await tempDir('cdc-lake-temp-');
  const file = join(root, 'probe.test.mjs');
  await writeFile(file, probe(root));
  // Without this runner's context, the child runs its file as `node --test` runs any file.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], { cwd: repo, env, encoding: 'utf8' });
  assert.equal(r.status, 1, `the deliberate failure fails the probe run: ${r.stderr}`);
  const m = /DIRS (\[.*\])/.exec(r.stdout);
  assert.ok(m?.[1], `the probe printed its dirs, so they existed in a later test: ${r.stdout}`);
  const dirs = JSON.parse(m[1]) as string[];
  assert.equal(dirs.length, 2);
  for (const d of dirs) assert.equal(existsSync(d), false, `${d} is removed`);
});

test('removeTempDir removes a dir at once', async () => {
  const dir = await tempDir('cdc-lake-temp-');
  await writeFile(join(dir, 'x'), 'x');
  await removeTempDir(dir);
  assert.equal(existsSync(dir), false);
});
