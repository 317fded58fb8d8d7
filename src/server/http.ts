/**
 * The operations endpoint: /healthz (the process answers), /readyz (joined,
 * storage reachable, no stalled table), /metrics (Prometheus text), /status
 * (JSON from the daemon). Plain node:http; callbacks keep it independent of
 * the pipeline.
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';

/** What the daemon reports for readiness; `/readyz` derives the verdict with `readinessVerdict`. */
export interface ReadinessState {
  /** Consumer joined its group and has an assignment (or a file source is open). */
  joined: boolean;
  /** Why the source cannot reach its brokers right now (heartbeats or fetches fail). */
  sourceProblem?: string;
  /** The pipeline stopped on an outage and waits to restart: what happened. */
  restarting?: string;
  /** Last storage probe succeeded. */
  storageReachable: boolean;
  storageError?: string;
  /** Per table: when it last completed a commit and whether data is waiting. */
  tables: Array<{ table: string; lastCommitAtMs?: number; pendingSinceMs?: number }>;
}

export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/**
 * A table is stalled when it has had data waiting for longer than
 * `stallThresholdMs` without completing a commit since then.
 */
export function readinessVerdict(s: ReadinessState, nowMs: number, stallThresholdMs: number): Readiness {
  const reasons: string[] = [];
  if (!s.joined) reasons.push('not joined to the consumer group yet');
  if (s.sourceProblem !== undefined) reasons.push(`source: ${s.sourceProblem}`);
  if (s.restarting !== undefined) reasons.push(s.restarting);
  if (!s.storageReachable) reasons.push(`storage unreachable${s.storageError ? `: ${s.storageError}` : ''}`);
  for (const t of s.tables) {
    if (t.pendingSinceMs === undefined) continue;
    const since = Math.max(t.pendingSinceMs, t.lastCommitAtMs ?? 0);
    const waited = nowMs - since;
    if (waited > stallThresholdMs) reasons.push(`table ${t.table}: no commit for ${Math.round(waited / 1000)}s with data waiting (threshold ${Math.round(stallThresholdMs / 1000)}s)`);
  }
  return { ready: reasons.length === 0, reasons };
}

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  metrics: Metrics;
  readiness: () => ReadinessState | Promise<ReadinessState>;
  status: () => unknown;
  stallThresholdMs: number;
  now?: () => number;
}

export interface OpsServer {
  readonly server: Server;
  /** Actual bound port. */
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const now = opts.now ?? Date.now;
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => send(res, 500, 'text/plain; charset=utf-8', `internal error: ${e instanceof Error ? e.message : String(e)}\n`));
  });
  // Probes should never hold the process open at shutdown.
  server.keepAliveTimeout = 5000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'use GET\n');
    switch (path) {
      case '/healthz':
        return send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      case '/readyz': {
        const v = readinessVerdict(await opts.readiness(), now(), opts.stallThresholdMs);
        return send(res, v.ready ? 200 : 503, 'text/plain; charset=utf-8', v.ready ? 'ready\n' : `not ready: ${v.reasons.join('; ')}\n`);
      }
      case '/metrics':
        return send(res, 200, opts.metrics.registry.contentType, await opts.metrics.registry.metrics());
      case '/status':
        return send(res, 200, 'application/json', JSON.stringify(await opts.status(), bigintSafe, 2) + '\n');
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found; try /healthz, /readyz, /metrics or /status\n');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    port,
    url: `http://${hostForUrl}:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
}
