/**
 * Progress of long work on stderr: a self-overwriting bar on a terminal, a line
 * every few seconds otherwise (logs, CI), so stdout stays clean for output.
 */
export interface Progress {
  update(done: number, total: number): void;
  end(): void;
}

const MiB = 1024 * 1024;

export function progress(label: string, opts: { stream?: NodeJS.WriteStream; intervalMs?: number; now?: () => number } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? (stream.isTTY ? 100 : 5000);
  let last = 0;
  let drawn = false;
  const text = (done: number, total: number): string => {
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
    return `${label} ${pct}% (${(done / MiB).toFixed(1)} / ${(total / MiB).toFixed(1)} MiB)`;
  };
  return {
    update(done, total) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      if (stream.isTTY) {
        const width = 30;
        const filled = total > 0 ? Math.round((done / total) * width) : width;
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text(done, total)}`);
        drawn = true;
      } else {
        stream.write(`${text(done, total)}\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
