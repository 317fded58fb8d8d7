/**
 * Where output bytes go: stdout, a file, or memory (tests). Writes respect
 * backpressure so exporting a large table does not buffer it all in memory.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export interface ByteSink {
  write(chunk: string | Uint8Array): Promise<void>;
  /** Flushes; closes the underlying stream only when the sink owns it (files, not stdout). */
  close(): Promise<void>;
}

/** An output file or stream we could not write; names it and the cause. */
export class OutputError extends Error {
  constructor(
    readonly target: string,
    cause: unknown,
  ) {
    super(`writing ${target} failed: ${cause instanceof Error ? cause.message : String(cause)}; check the path and free space`, { cause });
    this.name = 'OutputError';
  }
}

export function streamSink(stream: Writable, opts: { end?: boolean; name?: string } = {}): ByteSink {
  const name = opts.name ?? 'output';
  let failure: unknown;
  stream.on('error', (e) => {
    failure ??= e;
  });
  return {
    write(chunk) {
      if (failure) return Promise.reject(new OutputError(name, failure));
      return new Promise<void>((resolve, reject) => {
        const ok = stream.write(chunk, (e) => {
          if (e) reject(new OutputError(name, e));
          else if (ok) resolve();
        });
        if (!ok) stream.once('drain', () => resolve());
      });
    },
    close() {
      if (failure) return Promise.reject(new OutputError(name, failure));
      if (!opts.end) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        stream.once('error', (e) => reject(new OutputError(name, e)));
        stream.end(() => resolve());
      });
    },
  };
}

export function stdoutSink(): ByteSink {
  return streamSink(process.stdout, { end: false, name: 'stdout' });
}

export function fileSink(path: string): ByteSink {
  return streamSink(createWriteStream(path), { end: true, name: path });
}

/** Collects everything written (tests, small outputs). */
export function memorySink(): ByteSink & { bytes(): Uint8Array; text(): string } {
  const chunks: Buffer[] = [];
  return {
    write(chunk) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
    bytes: () => new Uint8Array(Buffer.concat(chunks)),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
