// S3Store against the stack's real S3-compatible server (moto). Needs AWS_ENDPOINT_URL_S3,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and CDC_LAKE_TEST_BUCKET from the
// environment or .stack/env; fails (never skips) when they are missing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { openStore } from '../../../src/storage/open-store.js';
import { ObjectNotFound, StorageError } from '../../../src/storage/object-store.js';
import { S3Store } from '../../../src/storage/s3-store.js';

const REQUIRED = ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'CDC_LAKE_TEST_BUCKET'] as const;

function s3Env(): Record<(typeof REQUIRED)[number], string> {
  const file = process.env.CDC_LAKE_STACK_ENV ?? path.resolve('.stack/env');
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (m) fromFile[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  const missing = REQUIRED.filter((k) => !(process.env[k] ?? fromFile[k]));
  if (missing.length > 0) {
    throw new Error(`S3 test server not configured (${missing.join(', ')} unset, ${file} ${existsSync(file) ? 'lacks them' : 'missing'}): run \`npm run stack:up\``);
  }
  const out = {} as Record<(typeof REQUIRED)[number], string>;
  for (const k of REQUIRED) {
    out[k] = (process.env[k] ?? fromFile[k])!;
    process.env[k] = out[k]; // the SDK's default credential chain reads them
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('S3Store (moto)', () => {
  let env: ReturnType<typeof s3Env>;
  let store: S3Store;
  let prefix: string;

  before(async () => {
    env = s3Env();
    const client = new S3Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: env.CDC_LAKE_TEST_BUCKET })).catch((e: { name?: string }) => {
      if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
    });
    client.destroy();
    prefix = `storage-test-${Date.now()}-${randomBytes(3).toString('hex')}`;
    store = new S3Store({ bucket: env.CDC_LAKE_TEST_BUCKET, prefix, listPageSize: 3, partSize: 5 * 1024 * 1024, multipartThreshold: 5 * 1024 * 1024 });
  });
  after(async () => {
    await store?.close();
  });

  it('openStore builds an S3Store from the standard AWS environment', async () => {
    const s = openStore(`s3://${env.CDC_LAKE_TEST_BUCKET}/${prefix}/via-uri`);
    await s.put('x.txt', 'via uri');
    assert.equal(text(await store.get('via-uri/x.txt')), 'via uri');
    assert.equal(s.uri, `s3://${env.CDC_LAKE_TEST_BUCKET}/${prefix}/via-uri/`);
    await s.close?.();
  });

  it('puts, gets, heads, overwrites and reads ranges', async () => {
    await store.put('t/a.txt', 'hello world');
    assert.equal(text(await store.get('t/a.txt')), 'hello world');
    assert.equal((await store.head('t/a.txt'))?.size, 11);
    assert.ok((await store.head('t/a.txt'))?.lastModified instanceof Date);
    assert.equal(text(await store.get('t/a.txt', { offset: 6, length: 5 })), 'world');
    assert.equal(text(await store.get('t/a.txt', { offset: 6 })), 'world');
    assert.equal(text(await store.get('t/a.txt', { offset: 8, length: 100 })), 'rld');
    await store.put('t/a.txt', new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await store.get('t/a.txt'))], [1, 2, 3]);
    assert.equal(await store.head('t/none'), undefined);
  });

  it('get of a missing key is ObjectNotFound naming the key', async () => {
    await assert.rejects(store.get('t/missing.parquet'), (e: unknown) => {
      assert.ok(e instanceof ObjectNotFound);
      assert.match(e.message, new RegExp(`get s3://${env.CDC_LAKE_TEST_BUCKET}/${prefix}/t/missing\\.parquet failed`));
      return true;
    });
  });

  it('createIfAbsent: If-None-Match:* creates once, then returns false', async () => {
    assert.equal(await store.createIfAbsent('c/1.deltacommit', 'first'), true);
    assert.equal(await store.createIfAbsent('c/1.deltacommit', 'second'), false);
    assert.equal(text(await store.get('c/1.deltacommit')), 'first');
  });

  // moto's threaded server checks If-None-Match and then writes, without a lock, so two
  // concurrent conditional PUTs can both succeed there (seen: 1 race in ~30). Real S3 is atomic.
  // Reported as TODO (runs, shows failures, does not fail the suite) unless CDC_LAKE_S3_ATOMIC=1.
  it('createIfAbsent: exactly one of concurrent writers wins', { todo: process.env.CDC_LAKE_S3_ATOMIC === '1' ? false : 'moto If-None-Match is not atomic under concurrency' }, async () => {
    for (let i = 0; i < 10; i++) {
      const key = `race/${i}`;
      const r = await Promise.all([store.createIfAbsent(key, 'A'), store.createIfAbsent(key, 'B'), store.createIfAbsent(key, 'C')]);
      assert.equal(r.filter(Boolean).length, 1, `race ${i}: ${r}`);
      assert.equal(text(await store.get(key)), 'ABC'[r.indexOf(true)]);
    }
  });

  it('lists across pages in key order and lists folders', async () => {
    const keys = ['l/b/2', 'l/a/1', 'l/a/10', 'l/a/9', 'l/ab', 'l/.hoodie/h', 'l/p=1/f', 'l/p=2/f'];
    for (const k of keys) await store.put(k, k);
    assert.deepEqual((await store.list('l/')).map((o) => o.key), [...keys].sort());
    assert.deepEqual((await store.list('l/a')).map((o) => o.key), ['l/a/1', 'l/a/10', 'l/a/9', 'l/ab']);
    assert.equal((await store.list('l/ab'))[0]?.size, 4);
    const dir = await store.listDir('l');
    assert.deepEqual(dir.files.map((f) => f.key), ['l/ab']);
    assert.deepEqual(dir.dirs, ['l/.hoodie/', 'l/a/', 'l/b/', 'l/p=1/', 'l/p=2/']);
    assert.deepEqual(await store.listDir('nothing/'), { files: [], dirs: [] });
    // `except` skips one folder, however many pages it spans, and keeps what sorts around it.
    for (let i = 0; i < 7; i++) await store.put(`l/.hoodie/x${i}`, 'x');
    await store.put('l/-first', 'f');
    await store.put('l/.hoodie_partition_metadata', 'm');
    const without = (await store.list('l/', { except: 'l/.hoodie/' })).map((o) => o.key);
    assert.deepEqual(without, [...keys.filter((k) => !k.startsWith('l/.hoodie/')), 'l/-first', 'l/.hoodie_partition_metadata'].sort());
  });

  it('deletes; a missing key is fine', async () => {
    await store.put('d/x', 'x');
    await store.delete('d/x');
    assert.equal(await store.head('d/x'), undefined);
    await store.delete('d/x');
  });

  it('uploads big objects in parts and reads ranges across part boundaries', async () => {
    const big = randomBytes(11 * 1024 * 1024 + 123);
    await store.put('big/file.parquet', big);
    assert.equal((await store.head('big/file.parquet'))?.size, big.length);
    const all = await store.get('big/file.parquet');
    assert.ok(Buffer.from(all).equals(big));
    const off = 5 * 1024 * 1024 - 10;
    assert.ok(Buffer.from(await store.get('big/file.parquet', { offset: off, length: 20 })).equals(big.subarray(off, off + 20)));
  });

  it('a missing bucket is a StorageError naming op, key and cause', async () => {
    const s = new S3Store({ bucket: `no-such-bucket-${randomBytes(4).toString('hex')}`, maxAttempts: 1 });
    await assert.rejects(s.put('k/v', 'x'), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.op, 'put');
      assert.equal(e.key, 'k/v');
      assert.match(e.message, /^put s3:\/\/no-such-bucket-[0-9a-f]+\/k\/v failed: .*bucket/i);
      return true;
    });
    await s.close();
  });
});
