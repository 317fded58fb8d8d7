// S3Store's error handling against a scripted loopback HTTP server (a fake: it answers just
// enough of the S3 protocol) — throttling, 5xx and connection resets are retried; 412 is a lost
// race; everything else becomes a StorageError naming op and key.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StorageError } from '../../../src/storage/object-store.js';
import { S3Store } from '../../../src/storage/s3-store.js';

type Step = 'slowdown' | '500' | 'reset' | 'ok' | '412' | '403';

describe('S3Store retries and errors (fake server)', () => {
  let server: http.Server;
  let endpoint: string;
  let script: Step[] = [];
  let requests: string[] = [];
  let stored: Buffer = Buffer.alloc(0);

  before(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const step = script.shift() ?? 'ok';
        const xml = (status: number, code: string) => {
          res.writeHead(status, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>r</RequestId></Error>`);
        };
        if (step === 'reset') req.socket.destroy();
        else if (step === 'slowdown') xml(503, 'SlowDown');
        else if (step === '500') xml(500, 'InternalError');
        else if (step === '412') xml(412, 'PreconditionFailed');
        else if (step === '403') xml(403, 'AccessDenied');
        else if (req.method === 'GET') {
          res.writeHead(200, { 'content-length': stored.length });
          res.end(stored);
        } else {
          if (req.method === 'PUT') stored = Buffer.concat(chunks);
          res.writeHead(200, { etag: '"abc"' });
          res.end();
        }
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.close();
  });

  const store = (maxAttempts = 4) => new S3Store({ bucket: 'bkt', prefix: 'lake', endpoint, region: 'us-east-1', maxAttempts });

  it('retries throttling, 5xx and connection resets, then succeeds', async () => {
    script = ['slowdown', '500', 'reset'];
    requests = [];
    const s = store();
    await s.put('t/x', 'data');
    assert.equal(requests.length, 4);
    assert.ok(requests.every((r) => r.startsWith('PUT /bkt/lake/t/x')), requests.join());
    await s.close();
  });

  it('gives up after maxAttempts with a StorageError naming op and key', async () => {
    script = ['slowdown', 'slowdown', 'slowdown'];
    requests = [];
    const s = store(2);
    await assert.rejects(s.put('t/y', 'data'), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.equal(e.op, 'put');
      assert.equal(e.key, 't/y');
      assert.match(e.message, /^put s3:\/\/bkt\/lake\/t\/y failed: /);
      return true;
    });
    assert.equal(requests.length, 2);
    script = [];
    await s.close();
  });

  it('does not retry client errors', async () => {
    script = ['403'];
    requests = [];
    const s = store();
    await assert.rejects(s.delete('t/z'), /delete s3:\/\/bkt\/lake\/t\/z failed: AccessDenied/);
    assert.equal(requests.length, 1);
    await s.close();
  });

  it('412 on a conditional put means the object exists', async () => {
    script = ['412'];
    requests = [];
    const s = store();
    assert.equal(await s.createIfAbsent('t/c', 'x'), false);
    assert.equal(requests.length, 1);
    await s.close();
  });

  it('a 412 after a lost response is ours only if the object holds our bytes', async () => {
    const s = store();
    stored = Buffer.from('mine');
    script = ['reset', '412', 'ok'];
    assert.equal(await s.createIfAbsent('t/lost', 'mine'), true);
    script = ['reset', '412', 'ok'];
    assert.equal(await s.createIfAbsent('t/lost', 'theirs'), false);
    await s.close();
  });
});
