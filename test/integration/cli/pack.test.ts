import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../../support/temp.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');

test('the packed package installs in a clean folder and `npx cdc-lake demo` shows every step', { timeout: 600_000 }, async () => {
  const dir = await tempDir('cdc-lake-pack-');
  // `npm pack` runs `prepare` (tsc), so the tarball carries dist/ as a user gets it.
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: repo, maxBuffer: 16 << 20 });
  const tarball = join(dir, stdout.trim().split('\n').pop() as string);
  const app = join(dir, 'app');
  await run('mkdir', ['-p', app]);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'try-cdc-lake', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: app, maxBuffer: 16 << 20 });
  const demo = await run('npx', ['cdc-lake', 'demo'], { cwd: app, maxBuffer: 16 << 20 });
  for (const step of ['1. ingest part 1', '2. ingest part 2', '3. ingest part 2 again', '4. tables', '5. timeline', '6. snapshot', '7. incremental', '8. changes', '9. read the same tables']) {
    assert.ok(demo.stdout.includes(step), `missing step "${step}" in:\n${demo.stdout}`);
  }
  assert.match(demo.stdout, /"order_id":5007,"customer_id":2,"status":"PAID"/);
  const version = await run('npx', ['cdc-lake', '--version'], { cwd: app });
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
});
