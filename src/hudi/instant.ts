/**
 * Timeline instants of table version 6 (timeline layout 1): file names and instant times.
 */

export type Action = 'deltacommit' | 'commit' | 'compaction' | 'rollback' | 'clean' | 'replacecommit';
export type State = 'requested' | 'inflight' | 'completed';

export interface Instant {
  /** 17-digit `yyyyMMddHHmmssSSS` in UTC (14-digit legacy times are parsed too). */
  timestamp: string;
  action: Action;
  state: State;
}

const ACTIONS: readonly Action[] = ['deltacommit', 'commit', 'compaction', 'rollback', 'clean', 'replacecommit'];

/**
 * Layout-1 file name. Two legacy quirks: an inflight commit is `<t>.inflight`, and a
 * completed compaction is recorded as `<t>.commit`.
 */
export function instantFileName(i: Instant): string {
  if (i.state === 'completed') return `${i.timestamp}.${i.action === 'compaction' ? 'commit' : i.action}`;
  if (i.action === 'commit' && i.state === 'inflight') return `${i.timestamp}.inflight`;
  return `${i.timestamp}.${i.action}.${i.state}`;
}

const NAME = /^(\d{17}|\d{14})\.([a-z]+)(?:\.(requested|inflight))?$/;

/**
 * Parses a layout-1 timeline file name; undefined for anything else (other actions such as
 * `savepoint`, `.properties`, folders). A completed `<t>.commit` parses as action `commit`
 * (Hudi cannot tell a finished compaction from its name either).
 */
export function parseInstantFileName(name: string): Instant | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const timestamp = m[1] as string;
  const word = m[2] as string;
  const suffix = m[3] as 'requested' | 'inflight' | undefined;
  if (word === 'inflight' && suffix === undefined) return { timestamp, action: 'commit', state: 'inflight' };
  if (!(ACTIONS as readonly string[]).includes(word)) return undefined;
  const action = word as Action;
  if (action === 'commit' && suffix === 'inflight') return undefined; // Hudi never writes `.commit.inflight`
  if (action === 'compaction' && suffix === undefined) return undefined; // completes as `.commit`
  return { timestamp, action, state: suffix ?? 'completed' };
}

/** Orders instants as Hudi does: by time, then requested < inflight < completed. */
export function compareInstants(a: Pick<Instant, 'timestamp' | 'state'>, b: Pick<Instant, 'timestamp' | 'state'>): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  const rank = { requested: 0, inflight: 1, completed: 2 } as const;
  return rank[a.state] - rank[b.state];
}

export class InstantError extends Error {
  override readonly name = 'InstantError';
}

/** `yyyyMMddHHmmssSSS` (UTC) → Date; 14-digit legacy times have no millis. */
export function instantToDate(t: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(t);
  if (!m) throw new InstantError(`instant time "${t}" is not yyyyMMddHHmmss[SSS]; timeline file names must start with one`);
  const [, y, mo, d, h, mi, s, ms] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms ?? '0')));
  // Date.UTC rolls over (month 13 → next year); a real instant must map back to itself.
  if (Number.isNaN(date.getTime()) || dateToInstant(date) !== (ms === undefined ? t + '000' : t)) {
    throw new InstantError(`instant time "${t}" is not a valid date`);
  }
  return date;
}

export function dateToInstant(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    p(d.getUTCFullYear(), 4) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
    p(d.getUTCHours()) + p(d.getUTCMinutes()) + p(d.getUTCSeconds()) + p(d.getUTCMilliseconds(), 3)
  );
}

/**
 * Hands out strictly increasing instant times. Seed it with the newest instant on the
 * timeline; if the wall clock is behind (skew, restart on another host) it continues at
 * last + 1 ms instead of going backwards.
 */
export class InstantClock {
  private last: string | undefined;
  constructor(lastOnTimeline?: string, private readonly now: () => Date = () => new Date()) {
    if (lastOnTimeline !== undefined) this.observe(lastOnTimeline);
  }

  /** Records an instant seen elsewhere so later times are after it. */
  observe(t: string): void {
    const norm = t.length === 14 ? t + '999' : t; // a legacy 14-digit instant covers its whole second
    instantToDate(norm);
    if (this.last === undefined || norm > this.last) this.last = norm;
  }

  next(): string {
    let t = dateToInstant(this.now());
    if (this.last !== undefined && t <= this.last) t = dateToInstant(new Date(instantToDate(this.last).getTime() + 1));
    this.last = t;
    return t;
  }
}
