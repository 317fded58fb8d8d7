import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics, startOpsServer, readinessVerdict, type ReadinessState } from '../../../src/server/index.js';

test('healthz, readyz flipping to 503 with reasons, metrics and status on a loopback port', async () => {
  const metrics = createMetrics();
  let now = 1_000_000;
  const state: ReadinessState = { joined: false, storageReachable: true, tables: [] };
  const ops = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    metrics,
    readiness: () => state,
    status: () => ({ tables: [{ table: 'public.orders', lastInstant: '20250101000000000', lag: 12n }] }),
    stallThresholdMs: 60_000,
    now: () => now,
  });
  try {
    assert.ok(ops.port > 0);
    const h = await fetch(`${ops.url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(await h.text(), 'ok\n');

    let r = await fetch(`${ops.url}/readyz`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /not joined/);

    state.joined = true;
    r = await fetch(`${ops.url}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'ready\n');

    state.storageReachable = false;
    state.storageError = 'ECONNREFUSED 127.0.0.1:5000';
    r = await fetch(`${ops.url}/readyz`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /storage unreachable: ECONNREFUSED/);

    state.storageReachable = true;
    state.tables = [{ table: 'public.orders', lastCommitAtMs: now - 120_000, pendingSinceMs: now - 90_000 }];
    r = await fetch(`${ops.url}/readyz`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /table public\.orders: no commit for 90s/);

    state.tables = [{ table: 'public.orders', lastCommitAtMs: now - 1000, pendingSinceMs: now - 90_000 }];
    r = await fetch(`${ops.url}/readyz`);
    assert.equal(r.status, 200, 'a commit after the data arrived resets the stall clock');
    now += 2_000;

    metrics.recordsIn.inc({ table: 'public.orders' }, 3);
    metrics.commitLatency.observe({ table: 'public.orders' }, 0.2);
    metrics.decodeErrors.inc({ reason: 'malformed' });
    const m = await fetch(`${ops.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
    const body = await m.text();
    assert.match(body, /cdc_lake_records_in_total\{table="public.orders"\} 3/);
    assert.match(body, /cdc_lake_commit_duration_seconds_bucket\{le="0.25",table="public.orders"\} 1/);
    assert.match(body, /cdc_lake_decode_errors_total\{reason="malformed"\} 1/);
    assert.match(body, /cdc_lake_process_resident_memory_bytes/);

    const s = await fetch(`${ops.url}/status`);
    assert.equal(s.status, 200);
    assert.deepEqual(await s.json(), { tables: [{ table: 'public.orders', lastInstant: '20250101000000000', lag: 12 }] });

    assert.equal((await fetch(`${ops.url}/nope`)).status, 404);
    assert.equal((await fetch(`${ops.url}/healthz`, { method: 'POST' })).status, 405);
  } finally {
    await ops.stop();
  }
  await assert.rejects(fetch(`${ops.url}/healthz`));
});

test('a failing status callback gives 500, not a crash', async () => {
  const ops = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    metrics: createMetrics({ defaultMetrics: false }),
    readiness: () => ({ joined: true, storageReachable: true, tables: [] }),
    status: () => {
      throw new Error('pipeline not started');
    },
    stallThresholdMs: 1000,
  });
  try {
    const r = await fetch(`${ops.url}/status`);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /pipeline not started/);
  } finally {
    await ops.stop();
  }
});

test('readinessVerdict: a table without pending data is never stalled', () => {
  const v = readinessVerdict({ joined: true, storageReachable: true, tables: [{ table: 'a.b', lastCommitAtMs: 0 }] }, 10_000_000, 1000);
  assert.deepEqual(v, { ready: true, reasons: [] });
});

test('two metric sets in one process do not collide', () => {
  const a = createMetrics({ defaultMetrics: false });
  const b = createMetrics({ defaultMetrics: false });
  a.commits.inc({ table: 't', action: 'deltacommit' });
  assert.notEqual(a.registry, b.registry);
});

test('readinessVerdict: a source that cannot reach its brokers is not ready, and says why', () => {
  const v = readinessVerdict({ joined: true, storageReachable: true, sourceProblem: 'heartbeat to the group coordinator failed: ECONNREFUSED', tables: [] }, 0, 1000);
  assert.equal(v.ready, false);
  assert.deepEqual(v.reasons, ['source: heartbeat to the group coordinator failed: ECONNREFUSED']);
  assert.equal(readinessVerdict({ joined: true, storageReachable: true, tables: [] }, 0, 1000).ready, true);
});
