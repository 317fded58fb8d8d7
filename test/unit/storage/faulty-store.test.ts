import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FaultyStore, faultPlanFromEnv, InjectedFault } from '../../../src/storage/faulty-store.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { StorageError } from '../../../src/storage/object-store.js';
import { tempDir } from '../../support/temp.js';

async function tmp(): Promise<string> {
  return tempDir('cdc-lake-faulty-');
}

describe('FaultyStore', () => {
  it('counts and logs mutating calls only', async () => {
    const s = new FaultyStore(new LocalStore(await tmp()));
    await s.put('a', 'x');
    await s.get('a');
    await s.list('');
    await s.createIfAbsent('b', 'y');
    await s.delete('a');
    assert.equal(s.calls, 3);
    assert.deepEqual(s.log, [
      { op: 'put', key: 'a' },
      { op: 'createIfAbsent', key: 'b' },
      { op: 'delete', key: 'a' },
    ]);
  });

  it('throws before the Nth call without performing it', async () => {
    const inner = new LocalStore(await tmp());
    const s = new FaultyStore(inner, { at: 2, when: 'before', action: 'throw' });
    await s.put('a', 'x');
    await assert.rejects(s.put('b', 'y'), InjectedFault);
    assert.equal(await inner.head('b'), undefined);
  });

  it("'outage' fails the Nth call as a storage outage (a StorageError marked so, caused by the injected fault)", async () => {
    const s = new FaultyStore(new LocalStore(await tmp()), faultPlanFromEnv('1:before:outage'));
    const e = await s.put('a', 'x').then(() => assert.fail('the put succeeded'), (err: unknown) => err);
    assert.ok(e instanceof StorageError && e.outage && e.cause instanceof InjectedFault, String(e));
    await s.put('a', 'x');
  });

  it('throws after the Nth call once it took effect', async () => {
    const inner = new LocalStore(await tmp());
    const s = new FaultyStore(inner, { at: 1, when: 'after', action: 'throw' });
    await assert.rejects(s.createIfAbsent('c', 'z'), /injected fault after mutating call #1: createIfAbsent c/);
    assert.equal((await inner.head('c'))?.size, 1);
  });

  it('exit kills the process at once (child process)', async () => {
    const dir = await tmp();
    const script = `
      import { FaultyStore, faultPlanFromEnv } from ${JSON.stringify(path.resolve('src/storage/faulty-store.ts'))};
      import { LocalStore } from ${JSON.stringify(path.resolve('src/storage/local-store.ts'))};
      const s = new FaultyStore(new LocalStore(${JSON.stringify(dir)}), faultPlanFromEnv());
      await s.put('one', '1');
      await s.put('two', '2');
      await s.put('three', '3');
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, CDC_LAKE_FAULT: '2:after:exit' },
      encoding: 'utf8',
    });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    const keys = (await new LocalStore(dir).list('')).map((o) => o.key);
    assert.deepEqual(keys, ['one', 'two']);
  });

  it('parses CDC_LAKE_FAULT', () => {
    assert.deepEqual(faultPlanFromEnv('3:before:throw'), { at: 3, when: 'before', action: 'throw' });
    assert.equal(faultPlanFromEnv(''), undefined);
    assert.throws(() => faultPlanFromEnv('3:during:throw'), /expected <n>/);
  });
});
