// S3Store under a seeded storm of faults: a small in-memory S3 fake (PUT with
// If-None-Match, GET, HEAD, DELETE) behind the fault-injecting proxy. Every
// operation must still give the right answer: a conditional create reports "ours"
// exactly once per key even when the response to a successful attempt was lost, and a
// body cut in the middle is read again rather than returned short or failed.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { StorageError } from '../../../src/storage/object-store.js';
import { backoffMs, S3Store } from '../../../src/storage/s3-store.js';
import { decide, FaultProxy, seededRandom, type FaultKind } from '../../support/fault-proxy.js';

function fakeS3(): http.Server {
  const objects = new Map<string, Buffer>();
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      const xml = (status: number, code: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
      };
      const body = objects.get(key);
      if (key.includes('forbidden')) return xml(403, 'AccessDenied');
      if (req.method === 'PUT') {
        if (req.headers['if-none-match'] === '*' && body) return xml(412, 'PreconditionFailed');
        objects.set(key, Buffer.concat(chunks));
        res.writeHead(200, { etag: '"e"' });
        return res.end();
      }
      if (req.method === 'DELETE') {
        objects.delete(key);
        res.writeHead(204);
        return res.end();
      }
      if (!body) return req.method === 'HEAD' ? (res.writeHead(404), res.end()) : xml(404, 'NoSuchKey');
      res.writeHead(200, { 'content-length': body.length, 'last-modified': new Date().toUTCString() });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
}

describe('S3Store through the fault proxy (seeded faults, in-memory S3 fake)', () => {
  let server: http.Server;
  let proxy: FaultProxy;

  before(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'testing';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'testing';
    server = fakeS3();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    proxy = await FaultProxy.start(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(async () => {
    await proxy.close();
    server.close();
  });

  it('the fault policy is deterministic per seed and close to its rates', () => {
    const policy = { seed: 7, faultRate: 0.2, latencyRate: 0.5, maxLatencyMs: 10 };
    const a = seededRandom(7);
    const b = seededRandom(7);
    const runA = Array.from({ length: 2000 }, () => decide(policy, a));
    const runB = Array.from({ length: 2000 }, () => decide(policy, b));
    assert.deepEqual(runA, runB);
    const faults = runA.filter((d) => d.fault !== undefined).length / runA.length;
    const delayed = runA.filter((d) => d.delayMs > 0).length / runA.length;
    assert.ok(faults > 0.15 && faults < 0.25, `fault share ${faults}`);
    assert.ok(delayed > 0.4 && delayed < 0.6, `delay share ${delayed}`);
  });

  it('backoff is full jitter, growing with the attempt and capped', () => {
    assert.equal(backoffMs(1, () => 0), 0);
    assert.equal(backoffMs(1, () => 0.999), 199);
    assert.equal(backoffMs(3, () => 0.5), 400);
    assert.equal(backoffMs(30, () => 0.5), 10_000);
  });

  it('failing through every retry is an outage; a refusal, or a body cut short each time, tells apart', async () => {
    const s = new S3Store({ bucket: 'bkt', prefix: 'lake', endpoint: proxy.endpoint, region: 'us-east-1', maxAttempts: 3, retryBaseDelayMs: 1 });
    const failure = async (op: Promise<unknown>): Promise<StorageError> => {
      const e = await op.then(() => assert.fail('the request succeeded'), (err: unknown) => err);
      assert.ok(e instanceof StorageError, String(e));
      return e;
    };
    try {
      await s.put('o/cut', 'x'.repeat(5000));
      for (const kind of ['internal-error', 'slowdown', 'reset-before'] satisfies FaultKind[]) {
        proxy.setPolicy({ seed: 1, faultRate: 1, kinds: [kind] });
        const e = await failure(s.put('o/1', 'data'));
        assert.equal(e.outage, true, `${kind} on every attempt: ${e.message}`);
      }
      proxy.setPolicy({ seed: 1, faultRate: 1, kinds: ['reset-mid-body'], applies: (r) => r.method === 'GET' });
      assert.equal((await failure(s.get('o/cut'))).outage, true, 'a body cut short on every attempt');
      proxy.setPolicy(undefined);
      const refused = await failure(s.put('o/forbidden', 'data'));
      assert.equal(refused.outage, false, `403 is a refusal, not an outage: ${refused.message}`);
    } finally {
      proxy.setPolicy(undefined);
      await s.close();
    }
    const closed = http.createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const gone = new S3Store({ bucket: 'bkt', endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 2, retryBaseDelayMs: 1 });
    try {
      assert.equal((await failure(gone.put('o/1', 'data'))).outage, true, 'connection refused through every retry');
    } finally {
      await gone.close();
    }
  });

  it('every put, conditional create and get gives the right answer under 30% faults', async () => {
    proxy.setPolicy({ seed: 42, faultRate: 0.3, latencyRate: 0.2, maxLatencyMs: 5 });
    // 10 attempts: at a 30% fault rate, 10 failures in a row (~6e-6) do not happen with this seed.
    const s = new S3Store({ bucket: 'bkt', prefix: 'lake', endpoint: proxy.endpoint, region: 'us-east-1', maxAttempts: 10, retryBaseDelayMs: 5 });
    try {
      for (let i = 0; i < 40; i++) {
        const data = `object ${i} `.repeat(50 + i);
        await s.put(`p/${i}`, data);
        assert.equal(Buffer.from(await s.get(`p/${i}`)).toString(), data, `get p/${i}`);
        assert.equal(await s.createIfAbsent(`c/${i}`, `mine ${i}`), true, `first create of c/${i} is ours`);
        assert.equal(await s.createIfAbsent(`c/${i}`, `theirs ${i}`), false, `second create of c/${i} lost the race`);
        assert.equal(Buffer.from(await s.get(`c/${i}`)).toString(), `mine ${i}`);
        assert.equal((await s.head(`p/${i}`))?.size, Buffer.byteLength(data));
      }
      for (const kind of ['slowdown', 'internal-error', 'reset-before', 'reset-after', 'reset-mid-body'] satisfies FaultKind[]) {
        assert.ok(proxy.counts.injected[kind] > 0, `no ${kind} injected: ${JSON.stringify(proxy.counts)}`);
      }
    } finally {
      proxy.setPolicy(undefined);
      await s.close();
    }
  });
});
