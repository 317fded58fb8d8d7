import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { InvalidLakeUri, openStore, parseLakeUri } from '../../../src/storage/open-store.js';
import { S3Store } from '../../../src/storage/s3-store.js';

describe('parseLakeUri / openStore', () => {
  it('accepts paths, file:// and s3:// URIs', () => {
    assert.deepEqual(parseLakeUri('/data/lake'), { kind: 'local', dir: '/data/lake' });
    assert.deepEqual(parseLakeUri('rel/lake'), { kind: 'local', dir: path.resolve('rel/lake') });
    assert.deepEqual(parseLakeUri('file:///data/lake'), { kind: 'local', dir: '/data/lake' });
    assert.deepEqual(parseLakeUri('s3://my-bucket'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseLakeUri('s3://my-bucket/'), { kind: 's3', bucket: 'my-bucket', prefix: '' });
    assert.deepEqual(parseLakeUri('s3://my-bucket/a/b/'), { kind: 's3', bucket: 'my-bucket', prefix: 'a/b/' });
  });

  it('rejects bad URIs with a one-line InvalidLakeUri', () => {
    for (const bad of ['', '   ', 'gs://bucket/x', 's3://', 's3://UPPER/x', 's3://b/../x', 's3://bk/a//b', 'file://host/x', 'hdfs://nn/x']) {
      assert.throws(() => parseLakeUri(bad), (e: unknown) => {
        assert.ok(e instanceof InvalidLakeUri, `${bad}: ${String(e)}`);
        assert.ok(!e.message.includes('\n'));
        assert.match(e.message, /s3:\/\/bucket\/prefix/);
        return true;
      });
    }
  });

  it('builds the matching store', async () => {
    const local = openStore('/tmp/some-lake');
    assert.ok(local instanceof LocalStore);
    assert.equal(local.uri, 'file:///tmp/some-lake');
    const s3 = openStore('s3://bkt/lake', { s3: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1' } });
    assert.ok(s3 instanceof S3Store);
    assert.equal(s3.uri, 's3://bkt/lake/');
    assert.equal(s3.prefix, 'lake/');
    await s3.close?.();
  });
});
