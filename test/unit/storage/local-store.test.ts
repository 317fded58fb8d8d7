import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { LocalStore, LOCAL_TEMP_DIR } from '../../../src/storage/local-store.js';
import { ObjectNotFound, StorageError } from '../../../src/storage/object-store.js';
import { tempDir } from '../../support/temp.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('LocalStore', () => {
  let dir: string;
  let store: LocalStore;
  before(async () => {
    dir = await tempDir('cdc-lake-local-');
    store = new LocalStore(dir);
  });

  it('a delete that empties folders removes them, up to the root, as an object store has no empty folders', async () => {
    await store.put('gc/x/.temp/001/p/f.marker', '');
    await store.put('gc/x/keep.txt', 'k');
    await store.delete('gc/x/.temp/001/p/f.marker');
    await assert.rejects(fs.stat(path.join(dir, 'gc/x/.temp')), { code: 'ENOENT' });
    assert.deepEqual((await store.listDir('gc/x')).dirs, []);
    await store.delete('gc/x/keep.txt');
    await assert.rejects(fs.stat(path.join(dir, 'gc')), { code: 'ENOENT' });
    assert.ok((await fs.stat(dir)).isDirectory(), 'the root stays');
    await store.put('gc/x/.temp/002/f.marker', 'again');
    assert.equal(text(await store.get('gc/x/.temp/002/f.marker')), 'again');
  });

  it('lists a prefix recursively except one folder', async () => {
    for (const k of ['ex/.hoodie/a', 'ex/.hoodie/archived/b', 'ex/.hoodie_partition_metadata', 'ex/p/f', 'ex/-x']) await store.put(k, k);
    assert.deepEqual((await store.list('ex/', { except: 'ex/.hoodie/' })).map((o) => o.key), ['ex/-x', 'ex/.hoodie_partition_metadata', 'ex/p/f']);
    assert.equal((await store.list('ex/')).length, 5);
  });

  it('puts, gets, heads and overwrites, creating folders', async () => {
    await store.put('t/a/b.txt', 'hello');
    assert.equal(text(await store.get('t/a/b.txt')), 'hello');
    assert.equal((await store.head('t/a/b.txt'))?.size, 5);
    await store.put('t/a/b.txt', new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await store.get('t/a/b.txt'))], [1, 2, 3]);
    assert.equal(await store.head('t/a/missing'), undefined);
    assert.equal(await store.head('t/a'), undefined, 'a folder is not an object');
    assert.equal(store.uri, new URL(`file://${dir}`).href);
  });

  it('reads byte ranges, clamped at the end', async () => {
    await store.put('r.bin', new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert.deepEqual([...(await store.get('r.bin', { offset: 2, length: 3 }))], [2, 3, 4]);
    assert.deepEqual([...(await store.get('r.bin', { offset: 7 }))], [7, 8, 9]);
    assert.deepEqual([...(await store.get('r.bin', { offset: 8, length: 10 }))], [8, 9]);
    assert.deepEqual([...(await store.get('r.bin', { length: 2 }))], [0, 1]);
  });

  it('get of a missing key throws ObjectNotFound naming the key', async () => {
    await assert.rejects(store.get('nope/x.parquet'), (e: unknown) => {
      assert.ok(e instanceof ObjectNotFound && e instanceof StorageError);
      assert.match(e.message, /nope\/x\.parquet/);
      return true;
    });
  });

  it('createIfAbsent creates once, then returns false and keeps the first content', async () => {
    assert.equal(await store.createIfAbsent('c/1.commit', 'first'), true);
    assert.equal(await store.createIfAbsent('c/1.commit', 'second'), false);
    assert.equal(text(await store.get('c/1.commit')), 'first');
  });

  it('two concurrent createIfAbsent: exactly one wins (repeated)', async () => {
    for (let i = 0; i < 50; i++) {
      const key = `race/${i}.deltacommit`;
      const results = await Promise.all([store.createIfAbsent(key, 'A'), store.createIfAbsent(key, 'B')]);
      assert.equal(results.filter(Boolean).length, 1, `race ${i}: ${results}`);
      assert.equal(text(await store.get(key)), results[0] ? 'A' : 'B');
    }
  });

  it('lists recursively in key order, by string prefix, without temp files', async () => {
    const s = new LocalStore(path.join(dir, 'listing'));
    for (const k of ['t/b/2', 't/a/1', 't/a/10', 't/a/9', 't/ab', 'u/x', 't/.hoodie/h']) await s.put(k, k);
    assert.deepEqual((await s.list('t/')).map((o) => o.key), ['t/.hoodie/h', 't/a/1', 't/a/10', 't/a/9', 't/ab', 't/b/2']);
    assert.deepEqual((await s.list('t/a')).map((o) => o.key), ['t/a/1', 't/a/10', 't/a/9', 't/ab']);
    assert.deepEqual((await s.list('t/a/1')).map((o) => o.key), ['t/a/1', 't/a/10']);
    assert.deepEqual((await s.list('')).map((o) => o.key).filter((k) => k.startsWith(LOCAL_TEMP_DIR)), []);
    assert.equal((await s.list('')).length, 7);
    assert.deepEqual(await s.list('zzz/'), []);
    assert.equal((await s.list('t/ab'))[0]?.size, 4);
  });

  it('listDir returns files and sub-folders as full keys', async () => {
    const s = new LocalStore(path.join(dir, 'dirs'));
    for (const k of ['t/p=1/f1', 't/p=2/f2', 't/hoodie.properties', 't/.hoodie/x']) await s.put(k, 'x');
    const r = await s.listDir('t');
    assert.deepEqual(r.files.map((f) => f.key), ['t/hoodie.properties']);
    assert.deepEqual(r.dirs, ['t/.hoodie/', 't/p=1/', 't/p=2/']);
    assert.deepEqual(await s.listDir('t/'), r);
    assert.deepEqual((await s.listDir('')).dirs, ['t/']);
    assert.deepEqual(await s.listDir('missing/'), { files: [], dirs: [] });
  });

  it('deletes; deleting a missing key is fine', async () => {
    await store.put('d/x', 'x');
    await store.delete('d/x');
    assert.equal(await store.head('d/x'), undefined);
    await store.delete('d/x');
    await store.delete('never/was');
  });

  it('rejects keys that escape the root', async () => {
    await assert.rejects(store.put('../evil', 'x'), StorageError);
    await assert.rejects(store.get('/etc/passwd'), StorageError);
    await assert.rejects(store.list('a/../../'), StorageError);
  });

  it('leaves no temp files behind', async () => {
    await store.put('tmpcheck', 'x');
    await store.createIfAbsent('tmpcheck', 'y');
    assert.deepEqual(await fs.readdir(path.join(dir, LOCAL_TEMP_DIR)), []);
  });

  it('recreates folders removed after an earlier write (temp folder, target folder)', async () => {
    await store.put('gone/a/x.txt', 'x');
    await fs.rm(path.join(dir, LOCAL_TEMP_DIR), { recursive: true });
    await fs.rm(path.join(dir, 'gone'), { recursive: true });
    await store.put('gone/a/x.txt', 'again');
    assert.equal(text(await store.get('gone/a/x.txt')), 'again');
    await fs.rm(path.join(dir, 'gone'), { recursive: true });
    assert.equal(await store.createIfAbsent('gone/b/y.txt', 'y'), true);
    assert.equal(text(await store.get('gone/b/y.txt')), 'y');
  });

  it('writes a multi-megabyte object completely', async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_x, i) => i % 251);
    assert.equal(await store.createIfAbsent('big/blob.bin', big), true);
    assert.deepEqual(await store.get('big/blob.bin'), big);
  });
});
