import { Worker } from 'node:worker_threads';
import type { ObjectStore } from '../storage/object-store.js';
import { compactSlice, type SliceCompactionInput, type SliceCompactionOutput } from './compact-slice.js';
import type { CompactionReply, CompactionRequest } from './compaction-worker.js';

/**
 * Where a slice's compaction work runs. `CompactionThread` moves it to a worker thread so
 * the ingest thread keeps decoding and committing while a table compacts (this daemon
 * has a second core to give); `inProcess` runs it on the caller's thread (the library
 * default, and the CLI's one-shot `compact`).
 *
 * Either way every read goes through the caller's store (its retries, its fault hooks)
 * and every write and timeline step stays with `compaction.ts`: the worker only turns
 * the slice's bytes into the new base file's bytes.
 */
export interface SliceCompactor {
  compact(store: ObjectStore, input: SliceCompactionInput): Promise<SliceCompactionOutput>;
}

export const inProcess: SliceCompactor = { compact: compactSlice };

/** A failure inside the worker thread, re-raised on the caller's side with the worker's error name and message. */
export class CompactionThreadError extends Error {
  override readonly name = 'CompactionThreadError';
}

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './compaction-worker.ts' : './compaction-worker.js', import.meta.url);

/**
 * Under tsx (tests, benches) this module is TypeScript and so is the worker's entry; a
 * worker does not inherit the parent's module hooks, so it registers tsx's before loading it.
 */
function startWorker(): Worker {
  if (!ENTRY.pathname.endsWith('.ts')) return new Worker(ENTRY);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); })`, { eval: true });
}

/** An idle worker is stopped after this long: its heap and its Parquet encoder's memory go back to the OS between compactions. */
const IDLE_MS = 2000;

export class CompactionThread implements SliceCompactor {
  private worker: Worker | undefined;
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly waiting = new Map<number, { resolve: (o: SliceCompactionOutput) => void; reject: (e: Error) => void; what: string }>();

  async compact(store: ObjectStore, input: SliceCompactionInput): Promise<SliceCompactionOutput> {
    const files = new Map<string, Uint8Array>();
    const paths = [...(input.slice.base ? [input.slice.base.path] : []), ...input.slice.logs.map((l) => l.path)];
    for (const path of paths) files.set(path, await store.get(path));
    const id = this.nextId++;
    const what = `compacting file group ${input.slice.fileId}${input.slice.partition ? ` in ${input.slice.partition}` : ''}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, what });
      const req: CompactionRequest = { id, input, files };
      if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
      const w = this.started();
      w.ref(); // a running compaction keeps the process alive; an idle worker does not
      w.postMessage(req);
    });
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = startWorker();
    w.on('message', (reply: CompactionReply) => {
      const job = this.waiting.get(reply.id);
      if (job === undefined) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) {
        w.unref();
        // The next file group of this compaction follows at once; after the last one the worker goes.
        this.idleTimer = setTimeout(() => {
          if (this.waiting.size === 0 && this.worker === w) void this.close();
        }, IDLE_MS).unref();
      }
      if ('output' in reply) job.resolve(reply.output);
      else job.reject(new CompactionThreadError(`${job.what} failed in the compaction thread: ${reply.error.name}: ${reply.error.message}`));
    });
    const lost = (why: string): void => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, job] of this.waiting) {
        this.waiting.delete(id);
        job.reject(new CompactionThreadError(`${job.what}: the compaction thread ${why}`));
      }
    };
    w.on('error', (e) => lost(`failed: ${e.message}`));
    w.on('exit', (code) => lost(`exited with code ${code}`));
    this.worker = w;
    return w;
  }

  /** Whether a worker thread exists now (it is started by a compaction and stopped when idle). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Stops the worker; pending compactions fail (and are rolled back like any failed compaction). */
  async close(): Promise<void> {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
  }
}
