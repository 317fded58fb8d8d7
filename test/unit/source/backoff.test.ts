import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Backoff, backoffCeiling, backoffDelay, PermanentFailure, retryWithBackoff, type RetryFailure } from '../../../src/source/backoff.js';

test('the ceiling starts at 100 ms, doubles, and stays at 5 s however long the outage', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffCeiling(n)), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.equal(backoffCeiling(10_000), 5000);
});

test('property: a delay lies in [ceiling/2, ceiling] and never exceeds the cap', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, random) => {
      const d = backoffDelay(failures, random);
      const ceiling = backoffCeiling(failures);
      assert.ok(d >= ceiling / 2 && d <= ceiling && d <= 5000, `${failures} failures, random ${random}: ${d} ms`);
    }),
  );
});

test('jitter spreads two sources that fail at the same moment', () => {
  assert.notEqual(backoffDelay(5, 0.1), backoffDelay(5, 0.9));
});

test('Backoff counts consecutive failures and starts over after a success', () => {
  const b = new Backoff(undefined, () => 0.999_999);
  assert.deepEqual([b.next(), b.next(), b.next()], [100, 200, 400]);
  assert.equal(b.attempts, 3);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 100);
});

/** A retry harness with a fake clock: waits are recorded, not slept. */
function harness(permanentWhen: (e: unknown) => string | undefined = () => undefined) {
  const failures: RetryFailure[] = [];
  const waits: number[] = [];
  let stopped = false;
  return {
    failures,
    waits,
    stop: () => (stopped = true),
    options: {
      backoff: new Backoff(undefined, () => 0.5),
      permanent: permanentWhen,
      onFailure: (f: RetryFailure) => failures.push(f),
      wait: async (ms: number) => {
        waits.push(ms);
      },
      stopped: () => stopped,
    },
  };
}

test('retryWithBackoff: retries transient failures with growing waits, reports each once, returns the value', async () => {
  const h = harness();
  let calls = 0;
  const out = await retryWithBackoff(async () => {
    calls++;
    if (calls <= 3) throw new Error(`broker down ${calls}`);
    return 'joined';
  }, h.options);
  assert.deepEqual(out, { done: true, value: 'joined' });
  assert.equal(calls, 4);
  assert.deepEqual(h.failures.map((f) => [f.attempt, (f.error as Error).message, f.delayMs]), [
    [1, 'broker down 1', 75],
    [2, 'broker down 2', 150],
    [3, 'broker down 3', 300],
  ]);
  assert.deepEqual(h.waits, [75, 150, 300]);
  assert.equal(h.options.backoff.attempts, 0, 'a success resets the backoff');
});

test('retryWithBackoff: an error retrying cannot fix fails at once with its reason and cause', async () => {
  const h = harness((e) => ((e as Error).message.includes('SASL') ? 'check kafka.sasl' : undefined));
  const cause = new Error('SASL authentication failed');
  let calls = 0;
  await assert.rejects(
    retryWithBackoff(async () => {
      calls++;
      if (calls === 1) throw new Error('connection refused');
      throw cause;
    }, h.options),
    (e: unknown) => e instanceof PermanentFailure && e.reason === 'check kafka.sasl' && e.cause === cause && e.attempt === 2,
  );
  assert.equal(calls, 2);
  assert.equal(h.failures.length, 1, 'only the transient failure was reported as a retry');
});

test('retryWithBackoff: a stop during the wait ends the loop without another try', async () => {
  const h = harness();
  let calls = 0;
  const out = await retryWithBackoff(async () => {
    calls++;
    throw new Error('broker down');
  }, { ...h.options, wait: async () => void h.stop() });
  assert.deepEqual(out, { done: false });
  assert.equal(calls, 1);
});

test('retryWithBackoff: a try that fails because the caller stopped is not reported as a failure', async () => {
  const h = harness();
  const out = await retryWithBackoff(async () => {
    h.stop();
    throw new Error('closed while joining');
  }, h.options);
  assert.deepEqual(out, { done: false });
  assert.deepEqual(h.failures, []);
});
