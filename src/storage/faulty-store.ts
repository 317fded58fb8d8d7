/**
 * Fault injection for crash tests: wraps a store and fails the Nth mutating call
 * (put / createIfAbsent / delete, counted from 1 across all three), by throwing, by
 * failing as an outage would (the store's retries outlasted), or by ending the process
 * on the spot, before or after the inner call took effect.
 */
import { StorageError, type GetOptions, type ListOptions, type ObjectInfo, type ObjectStore } from './object-store.js';

export type MutatingOp = 'put' | 'createIfAbsent' | 'delete';

export interface FaultPlan {
  /** 1-based index of the mutating call that fails. */
  at: number;
  /** 'before': the inner call is not made; 'after': it completes, then the fault fires. */
  when: 'before' | 'after';
  /**
   * 'throw' raises InjectedFault; 'outage' a StorageError marked as an outage, caused by
   * it; 'exit' kills the process with SIGKILL (no finally blocks, no flushing).
   */
  action: 'throw' | 'outage' | 'exit';
}

export class InjectedFault extends Error {
  constructor(
    readonly op: MutatingOp,
    readonly key: string,
    readonly call: number,
    readonly when: 'before' | 'after',
  ) {
    super(`injected fault ${when} mutating call #${call}: ${op} ${key}`);
    this.name = 'InjectedFault';
  }
}

/** Reads a plan from `CDC_LAKE_FAULT=<at>:<before|after>:<throw|outage|exit>`, so a child process can be told where to die. */
export function faultPlanFromEnv(value = process.env.CDC_LAKE_FAULT): FaultPlan | undefined {
  if (!value) return undefined;
  const m = /^(\d+):(before|after):(throw|outage|exit)$/.exec(value.trim());
  if (!m) throw new Error(`CDC_LAKE_FAULT=${value}: expected <n>:<before|after>:<throw|outage|exit>, e.g. 3:after:exit`);
  return { at: Number(m[1]), when: m[2] as FaultPlan['when'], action: m[3] as FaultPlan['action'] };
}

export class FaultyStore implements ObjectStore {
  /** Mutating calls seen so far (including the failing one). */
  calls = 0;
  /** Every mutating call in order, for tests that first count the calls of a clean run. */
  readonly log: { op: MutatingOp; key: string }[] = [];

  constructor(
    readonly inner: ObjectStore,
    readonly plan?: FaultPlan,
  ) {}

  get uri(): string {
    return this.inner.uri;
  }

  /** `n` is this call's own number: concurrent calls must not see each other's count. */
  private fire(op: MutatingOp, key: string, n: number, when: 'before' | 'after'): void {
    if (!this.plan || this.plan.at !== n || this.plan.when !== when) return;
    if (this.plan.action === 'exit') process.kill(process.pid, 'SIGKILL');
    const fault = new InjectedFault(op, key, n, when);
    throw this.plan.action === 'outage' ? new StorageError(op, key, this.uri, fault, true) : fault;
  }

  private async mutate<T>(op: MutatingOp, key: string, run: () => Promise<T>): Promise<T> {
    const n = ++this.calls;
    this.log.push({ op, key });
    this.fire(op, key, n, 'before');
    const result = await run();
    this.fire(op, key, n, 'after');
    return result;
  }

  get(key: string, opts?: GetOptions): Promise<Uint8Array> {
    return this.inner.get(key, opts);
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key);
  }
  list(prefix: string, opts?: ListOptions): Promise<ObjectInfo[]> {
    return this.inner.list(prefix, opts);
  }
  listDir(prefix: string): Promise<{ files: ObjectInfo[]; dirs: string[] }> {
    return this.inner.listDir(prefix);
  }
  put(key: string, data: Uint8Array | string): Promise<void> {
    return this.mutate('put', key, () => this.inner.put(key, data));
  }
  createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    return this.mutate('createIfAbsent', key, () => this.inner.createIfAbsent(key, data));
  }
  delete(key: string): Promise<void> {
    return this.mutate('delete', key, () => this.inner.delete(key));
  }
  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
