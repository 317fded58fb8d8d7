/**
 * The source's retry policy: capped exponential backoff with jitter (100 ms doubling to
 * 5 s), one policy for every wait on the brokers (joining the group at start-up, fetch
 * and metadata failures), so an outage is ridden out the same way wherever it hits.
 */

export interface BackoffPolicy {
  /** Ceiling of the first delay. */
  baseMs: number;
  /** No delay grows above this. */
  capMs: number;
}

export const SOURCE_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 5000 };

/** The ceiling of the delay before retry `failures` (1 after the first failure): base·2^(n−1), capped (pure). */
export function backoffCeiling(failures: number, policy: BackoffPolicy = SOURCE_BACKOFF): number {
  // the exponent is bounded so a long outage never computes Infinity
  const exponent = Math.min(30, Math.max(0, failures - 1));
  return Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
}

/**
 * A delay in [ceiling/2, ceiling] ("equal jitter"): replicas that lost the broker at the
 * same moment spread their retries, yet none retries faster than half the step (pure;
 * `random` in [0, 1)).
 */
export function backoffDelay(failures: number, random: number, policy: BackoffPolicy = SOURCE_BACKOFF): number {
  const ceiling = backoffCeiling(failures, policy);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Counts consecutive failures of one loop; `next()` after each failure, `reset()` after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly policy: BackoffPolicy = SOURCE_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** Consecutive failures so far. */
  get attempts(): number {
    return this.failures;
  }

  /** Records one more failure and returns how long to wait before the next try. */
  next(): number {
    this.failures++;
    return backoffDelay(this.failures, this.random(), this.policy);
  }

  reset(): void {
    this.failures = 0;
  }
}

/** One failed try, as reported to `onFailure` before the wait. */
export interface RetryFailure {
  /** 1 for the first failure. */
  attempt: number;
  error: unknown;
  delayMs: number;
}

export interface RetryOptions {
  backoff: Backoff;
  /** Why retrying can never help (a configuration error), or undefined when waiting may. */
  permanent(error: unknown): string | undefined;
  onFailure(failure: RetryFailure): void;
  /** Waits `ms`, or less when the caller is stopping. */
  wait(ms: number): Promise<void>;
  stopped(): boolean;
}

/** The outcome of `retryWithBackoff`: the try's value, or that the caller stopped while it waited. */
export type RetryOutcome<T> = { done: true; value: T } | { done: false };

/** A failure `permanent()` named: the last error and what the user must fix. */
export class PermanentFailure extends Error {
  constructor(
    readonly reason: string,
    readonly attempt: number,
    options: { cause: unknown },
  ) {
    super(reason, options);
    this.name = 'PermanentFailure';
  }
}

/**
 * Calls `tryOnce` until it succeeds, waiting the backoff's delay after each failure;
 * throws PermanentFailure at once for an error retrying cannot fix, and gives up
 * (`{ done: false }`) as soon as the caller stops.
 */
export async function retryWithBackoff<T>(tryOnce: () => Promise<T>, o: RetryOptions): Promise<RetryOutcome<T>> {
  while (!o.stopped()) {
    try {
      const value = await tryOnce();
      o.backoff.reset();
      return { done: true, value };
    } catch (error) {
      if (o.stopped()) break;
      const delayMs = o.backoff.next();
      const reason = o.permanent(error);
      if (reason !== undefined) throw new PermanentFailure(reason, o.backoff.attempts, { cause: error });
      o.onFailure({ attempt: o.backoff.attempts, error, delayMs });
      await o.wait(delayMs);
    }
  }
  return { done: false };
}
