// A fault-injecting HTTP reverse proxy on loopback, put in front of the S3
// server: per a seeded policy it answers a share of requests with an S3 XML
// error (503 SlowDown, 500 InternalError), delays them, or resets the
// connection — before forwarding (the request never reached S3), after S3 did
// the work (the client never learns it succeeded: the case that makes a
// retried `If-None-Match: *` PUT come back 412), or halfway through the
// response body. It counts what it injected so a test can assert that the
// faults really happened. Request order decides which request gets which
// fault, so concurrent clients see the same rates but not the same victims.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random.js';

export { seededRandom };

export type FaultKind = 'slowdown' | 'internal-error' | 'reset-before' | 'reset-after' | 'reset-mid-body';

export interface FaultPolicy {
  /** PRNG seed: the same seed and request order give the same faults. */
  seed: number;
  /** Share of requests (0..1) answered with a fault; the kind is drawn from `kinds`. */
  faultRate: number;
  /** Fault kinds to draw from, equally likely (default: all five). */
  kinds?: readonly FaultKind[];
  /** Share of requests (0..1) delayed by a uniform random 0..maxLatencyMs before forwarding. */
  latencyRate?: number;
  maxLatencyMs?: number;
  /** Only requests this returns true for are eligible for faults and latency (default: all). */
  applies?: (req: { method: string; url: string }) => boolean;
}

export interface FaultCounts {
  requests: number;
  delayed: number;
  injected: Record<FaultKind, number>;
}

export const ALL_FAULT_KINDS: readonly FaultKind[] = ['slowdown', 'internal-error', 'reset-before', 'reset-after', 'reset-mid-body'];

/** What the proxy does with one request (pure, given the PRNG draws). */
export interface FaultDecision {
  fault: FaultKind | undefined;
  delayMs: number;
}

export function decide(policy: FaultPolicy, random: () => number): FaultDecision {
  const kinds = policy.kinds ?? ALL_FAULT_KINDS;
  const f = random();
  const k = random();
  const l = random();
  const d = random();
  const fault = f < policy.faultRate && kinds.length > 0 ? kinds[Math.min(kinds.length - 1, Math.floor(k * kinds.length))] : undefined;
  const delayMs = l < (policy.latencyRate ?? 0) ? Math.floor(d * (policy.maxLatencyMs ?? 0)) : 0;
  return { fault, delayMs };
}

function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
}

export class FaultProxy {
  readonly counts: FaultCounts = { requests: 0, delayed: 0, injected: { slowdown: 0, 'internal-error': 0, 'reset-before': 0, 'reset-after': 0, 'reset-mid-body': 0 } };
  private random: () => number;
  private readonly agent = new http.Agent({ keepAlive: true });

  private constructor(
    private readonly server: http.Server,
    readonly target: URL,
    private policy: FaultPolicy | undefined,
  ) {
    this.random = seededRandom(policy?.seed ?? 0);
  }

  /** Starts a proxy on a free loopback port forwarding to `target` (e.g. the stack's S3 endpoint). */
  static async start(target: string, policy?: FaultPolicy): Promise<FaultProxy> {
    const server = http.createServer();
    const proxy = new FaultProxy(server, new URL(target), policy);
    server.on('request', (req, res) => void proxy.handle(req, res));
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', ok);
    });
    return proxy;
  }

  /** `http://127.0.0.1:<port>`: give it to clients as their S3 endpoint. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Replaces the policy (undefined: pass everything through) and reseeds the PRNG. */
  setPolicy(policy: FaultPolicy | undefined): void {
    this.policy = policy;
    this.random = seededRandom(policy?.seed ?? 0);
  }

  /** Total faults injected so far. */
  get injectedTotal(): number {
    return Object.values(this.counts.injected).reduce((a, b) => a + b, 0);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.counts.requests++;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const policy = this.policy;
    const eligible = policy !== undefined && (policy.applies?.({ method, url }) ?? true);
    const { fault, delayMs } = eligible ? decide(policy, this.random) : { fault: undefined, delayMs: 0 };
    if (delayMs > 0) {
      this.counts.delayed++;
      await new Promise((r) => setTimeout(r, delayMs));
    }
    if (fault === 'slowdown' || fault === 'internal-error' || fault === 'reset-before') {
      // Drain the body first so the client is not stuck writing into a dead socket.
      req.resume();
      await new Promise<void>((ok) => (req.complete ? ok() : req.once('end', () => ok()).once('error', () => ok())));
      this.counts.injected[fault]++;
      if (fault === 'reset-before') {
        req.socket.destroy();
        return;
      }
      const [status, code] = fault === 'slowdown' ? [503, 'SlowDown'] : [500, 'InternalError'];
      const body = s3ErrorXml(code, `injected by the fault proxy (${fault})`);
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    this.forward(req, res, fault);
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, fault: 'reset-after' | 'reset-mid-body' | undefined): void {
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      (up) => {
        const length = Number(up.headers['content-length'] ?? 0);
        if (fault === 'reset-after') {
          // S3 did the work; the client only sees a dead connection.
          this.counts.injected['reset-after']++;
          up.resume();
          up.once('end', () => req.socket.destroy());
          return;
        }
        if (fault === 'reset-mid-body' && length >= 2 && req.method !== 'HEAD') {
          this.counts.injected['reset-mid-body']++;
          res.writeHead(up.statusCode ?? 502, up.headers);
          let sent = 0;
          const half = Math.floor(length / 2);
          up.on('data', (chunk: Buffer) => {
            if (sent >= half) return;
            const part = chunk.subarray(0, Math.max(0, half - sent));
            sent += part.length;
            if (part.length > 0) res.write(part);
            if (sent >= half) {
              up.destroy();
              req.socket.destroy();
            }
          });
          // a body shorter than content-length says (never, from a sane server): still cut it
          up.once('end', () => req.socket.destroy());
          return;
        }
        // A mid-body reset of an empty body is a plain reset after the work was done.
        if (fault === 'reset-mid-body') {
          this.counts.injected['reset-after']++;
          up.resume();
          up.once('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: upstream ${this.target.href} failed: ${e.message}`);
      } else res.destroy();
    });
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}
