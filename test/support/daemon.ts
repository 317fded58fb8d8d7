// Runs the real daemon (`cdc-lake run --config f`) as a child process for the
// e2e tests: writes a config for one test (its own S3 prefix, topics and
// consumer group), waits for the operations server, and stops it gracefully
// (SIGTERM) or kills it (SIGKILL). "Caught up" means: nothing buffered, and the
// records read stopped growing while the topics' end offsets stayed put.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import { stringify } from 'yaml';
import { run, stackEnv, type ProcessResult } from './stack-env.js';
import { tempDir } from './temp.js';

export interface DaemonSpec {
  /** Lake URI, e.g. s3://bucket/e2e/<test>. */
  lake: string;
  topics: readonly string[];
  /** Consumer group (informational for the daemon; unique per test keeps tests apart). */
  groupId: string;
  /** `tables.overrides` entries. */
  overrides?: Record<string, Record<string, unknown>>;
  buffer?: { maxAgeMs?: number; maxRows?: number };
  shutdownDeadlineMs?: number;
  logLevel?: string;
  /** S3 endpoint for the daemon only (e.g. a fault-injecting proxy on loopback); default the stack's. */
  s3Endpoint?: string;
  /** `kafka.sessionTimeoutMs` (takeover time after a crash); omitted → the daemon's default. */
  sessionTimeoutMs?: number;
  /** The config's `source` section (e.g. `{ format: 'avro', schemaRegistry: { url } }`); omitted → the daemon's defaults. */
  source?: DaemonSource;
}

/** `source` settings a test may set; the config schema (src/config/schema.ts) validates them. */
export interface DaemonSource {
  format?: 'auto' | 'json' | 'avro';
  schemaRegistry?: { url: string };
}

/** One `committed` log line of a daemon: which table got which instant, and when (ms since epoch). */
export interface CommitLogEntry {
  table: string;
  instant: string;
  rows: number;
  atMs: number;
}

/** The daemon's `/status` JSON. */
export interface DaemonStatus {
  summary: { records: number; changes: number; deadLetters: number; commits: number; skippedByCheckpoint: number };
  buffers: { table: string; bytes: number; rows: number; openedAtMs: number }[];
  lastCommits: Record<string, number>;
  /** What the replica holds now: its topic-partitions and tables (and tables lost to a refused commit). */
  assignment: { splits: string[]; tables: string[]; lost: string[] };
}

export class DaemonError extends Error {
  override readonly name = 'DaemonError';
}

/** The config file contents for a spec (pure; the endpoint and keys come from the AWS env). */
export function daemonConfig(spec: DaemonSpec): Record<string, unknown> {
  const env = stackEnv();
  return {
    lake: { uri: spec.lake, s3: { endpoint: spec.s3Endpoint ?? env.s3.endpoint, region: env.s3.region, pathStyle: true } },
    kafka: { brokers: [env.kafkaBootstrap], groupId: spec.groupId, clientId: spec.groupId, topics: [...spec.topics], ...(spec.sessionTimeoutMs ? { sessionTimeoutMs: spec.sessionTimeoutMs, heartbeatIntervalMs: Math.min(3000, Math.floor(spec.sessionTimeoutMs / 4)) } : {}) },
    ...(spec.source ? { source: spec.source } : {}),
    tables: { defaults: { buckets: 2 }, overrides: spec.overrides ?? {} },
    buffer: { maxAgeMs: spec.buffer?.maxAgeMs ?? 500, ...(spec.buffer?.maxRows ? { maxRows: spec.buffer.maxRows } : {}) },
    deadLetters: { table: true },
    server: { host: '127.0.0.1', port: 0 },
    log: { level: spec.logLevel ?? 'info' },
    shutdown: { deadlineMs: spec.shutdownDeadlineMs ?? 30_000 },
  };
}

export class DaemonProcess {
  private out = '';
  private err = '';
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string | undefined;

  private constructor(readonly spec: DaemonSpec, readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      if (this.url === undefined) {
        const m = /"url":"(http:\/\/[^"]+)".*operations server listening/.exec(this.out);
        if (m) this.url = m[1];
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.err += d));
    this.exited = new Promise((ok) => child.once('exit', (code, signal) => ok({ code, signal })));
  }

  /** Starts `cdc-lake run` and resolves when its operations server answers. */
  static async start(spec: DaemonSpec, timeoutMs = 120_000): Promise<DaemonProcess> {
    const env = stackEnv();
    const dir = await tempDir('cdc-lake-e2e-');
    const file = join(dir, 'config.yaml');
    await writeFile(file, stringify(daemonConfig(spec)));
    const child = spawn(process.execPath, ['--import', 'tsx', join(env.repoRoot, 'src', 'cli', 'main.ts'), 'run', '--config', file], {
      cwd: env.repoRoot,
      env: { ...process.env, ...env.vars },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const d = new DaemonProcess(spec, child);
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void d.exited.then(() => (done = true));
    while (d.url === undefined) {
      if (done) throw new DaemonError(`daemon exited during start-up: ${d.logTail()}`);
      if (Date.now() > deadline) {
        d.kill();
        throw new DaemonError(`daemon did not start its operations server in ${timeoutMs} ms: ${d.logTail()}`);
      }
      await sleep(100);
    }
    return d;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Combined stdout (pino JSON) and stderr so far. */
  get logs(): string {
    return this.out + this.err;
  }

  logTail(lines = 30): string {
    return this.logs.trim().split('\n').slice(-lines).join('\n');
  }

  /** Parsed pino log lines (non-JSON lines skipped). */
  logLines(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of this.out.split('\n')) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // a partial last line
      }
    }
    return out;
  }

  async status(): Promise<DaemonStatus> {
    if (this.url === undefined) throw new DaemonError('daemon not started');
    const res = await fetch(`${this.url}/status`);
    if (!res.ok) throw new DaemonError(`/status answered HTTP ${res.status}`);
    return (await res.json()) as DaemonStatus;
  }

  /** The commits this daemon logged (`committed` lines with an instant), oldest first. */
  commits(): CommitLogEntry[] {
    const out: CommitLogEntry[] = [];
    for (const l of this.logLines()) {
      if (l['msg'] !== 'committed' || typeof l['table'] !== 'string' || typeof l['instant'] !== 'string') continue;
      out.push({ table: l['table'], instant: l['instant'], rows: Number(l['rows'] ?? 0), atMs: typeof l['time'] === 'number' ? l['time'] : Date.parse(String(l['time'])) });
    }
    return out;
  }

  /** HTTP status of /readyz (0 when the server does not answer). */
  async readyz(): Promise<number> {
    return fetch(`${this.url ?? ''}/readyz`).then((r) => r.status).catch(() => 0);
  }

  /** Resolves when /readyz answers 200 (the source has joined and has its assignment). */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.readyz()) !== 200) {
      if (!this.running) throw new DaemonError(`daemon exited before it was ready: ${this.logTail()}`);
      if (Date.now() > deadline) throw new DaemonError(`daemon not ready (/readyz) after ${timeoutMs} ms: ${this.logTail()}`);
      await sleep(100);
    }
  }

  /** SIGSTOP: the process freezes (a "paused zombie": GC pause, VM freeze) without leaving the group. */
  freeze(): void {
    if (this.running) this.child.kill('SIGSTOP');
  }

  /** SIGCONT after freeze(). */
  thaw(): void {
    if (this.running) this.child.kill('SIGCONT');
  }

  /** The exit, whenever it happens. */
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then the exit code (null when killed by a signal). */
  async stop(timeoutMs = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGTERM');
    const t = setTimeout(() => this.kill(), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** SIGKILL: a crash at whatever instant the daemon is at. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Resolves when the daemon has read everything the topics hold and committed
   * it: /readyz answers 200 (joined, storage reachable), nothing buffered, and
   * over two polls `quietMs` apart neither the topics'
   * end offsets nor the records read changed. Throws after timeoutMs with the log tail.
   */
  async waitCaughtUp(opts: { timeoutMs?: number; quietMs?: number } = {}): Promise<DaemonStatus> {
    const timeoutMs = opts.timeoutMs ?? 90_000;
    const quietMs = opts.quietMs ?? Math.max(1500, (this.spec.buffer?.maxAgeMs ?? 500) * 3);
    const deadline = Date.now() + timeoutMs;
    // First the source must have its assignment (/readyz), or "nothing read" looks like "caught up".
    await this.waitReady(timeoutMs);
    let prev: string | undefined;
    for (;;) {
      if (!this.running) throw new DaemonError(`daemon exited while catching up: ${this.logTail()}`);
      const [status, ends] = await Promise.all([this.status(), endOffsets(this.spec.topics)]);
      const buffered = status.buffers.some((b) => b.rows > 0);
      const sig = JSON.stringify([status.summary.records, status.summary.commits, [...ends].sort()]);
      if (!buffered && sig === prev) return status;
      prev = buffered ? undefined : sig;
      if (Date.now() > deadline) throw new DaemonError(`daemon not caught up after ${timeoutMs} ms (status ${JSON.stringify(status)}): ${this.logTail()}`);
      await sleep(quietMs);
    }
  }
}

/** Names for one e2e test: its PostgreSQL table, Debezium topic prefix and topic, and lake (unique per run). */
export function e2eNames(kind: string): { tag: string; table: string; prefix: string; topic: string; lake: string } {
  const tag = `${kind}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const table = `e2e_${tag}`;
  const prefix = `e2e${tag}`;
  return { tag, table, prefix, topic: `${prefix}.public.${table}`, lake: `s3://${stackEnv().s3.bucket}/e2e/${tag}` };
}

/** `topic:partition=endOffset` for every partition of the topics (missing topics are skipped). */
export async function endOffsets(topics: readonly string[]): Promise<string[]> {
  const admin = new Admin({ clientId: 'cdc-lake-e2e', bootstrapBrokers: [stackEnv().kafkaBootstrap] });
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return [];
    const meta = await admin.metadata({ topics: present });
    const out: string[] = [];
    for (const [topic, t] of meta.topics) {
      out.push(`${topic}:${t.partitionsCount}`);
    }
    const offsets = await admin.listOffsets({
      topics: [...meta.topics.keys()].map((name) => ({
        name,
        partitions: Array.from({ length: meta.topics.get(name)?.partitionsCount ?? 0 }, (_v, i) => ({ partitionIndex: i, timestamp: -1n })),
      })),
    });
    for (const t of offsets) for (const p of t.partitions) out.push(`${t.name}:${p.partitionIndex}=${String(p.offset)}`);
    return out;
  } catch (e) {
    if (process.env['E2E_DEBUG']) console.error(e);
    return topics.map((t) => `${t}:?`);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** `topic:partition=offset` the group committed for the topics (as `endOffsets` spells them). */
export async function groupOffsets(groupId: string, topics: readonly string[]): Promise<string[]> {
  const admin = new Admin({ clientId: 'cdc-lake-e2e', bootstrapBrokers: [stackEnv().kafkaBootstrap] });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const out: string[] = [];
    for (const t of group?.topics ?? []) {
      if (!topics.includes(t.name)) continue;
      for (const p of t.partitions) if (p.committedOffset >= 0n) out.push(`${t.name}:${p.partitionIndex}=${String(p.committedOffset)}`);
    }
    return out.sort();
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Runs the CLI (`node --import tsx src/cli/main.ts …`) with the stack's env. */
export async function cli(args: readonly string[]): Promise<ProcessResult> {
  const env = stackEnv();
  return run(process.execPath, ['--import', 'tsx', join(env.repoRoot, 'src', 'cli', 'main.ts'), ...args], { ...process.env, ...env.vars });
}
