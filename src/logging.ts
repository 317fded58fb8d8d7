/**
 * The process logger: pino JSON lines on stdout (or a given stream) with
 * credentials redacted, both in known fields (passwords, tokens, AWS keys,
 * Authorization headers) and inside URL userinfo anywhere in a string.
 */
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever they appear (compared case-insensitively, ignoring `_`/`-`). */
const SECRET_KEYS = new Set(
  [
    'password',
    'passwd',
    'secret',
    'secrets',
    'token',
    'bearerToken',
    'accessToken',
    'refreshToken',
    'apiKey',
    'authorization',
    'basicAuth',
    'secretAccessKey',
    'accessKeyId',
    'sessionToken',
    'awsSecretAccessKey',
    'awsAccessKeyId',
    'awsSessionToken',
    'privateKey',
    'cookie',
  ].map((k) => normKey(k)),
);

function isSecretKey(k: string): boolean {
  const n = normKey(k);
  return SECRET_KEYS.has(n) || /password|passwd|secret|token|credential|apikey/.test(n);
}

function normKey(k: string): string {
  return k.replace(/[_-]/g, '').toLowerCase();
}

/** Credentials inside free text: URL userinfo, Bearer/Basic values, AWS access key ids, PEM private keys. */
export function redactUrlCredentials(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@:]*(?::[^/\s@]*)?@/gi, `$1${REDACTED}@`)
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`)
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED)
    .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, REDACTED);
}

/** Deep copy of `value` with secret fields replaced and URL credentials removed from strings. */
export function redact(value: unknown, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  if (value instanceof Error) {
    const e: Record<string, unknown> = { type: value.name, message: redactUrlCredentials(value.message) };
    if (value.stack) e['stack'] = redactUrlCredentials(value.stack);
    for (const [k, v] of Object.entries(value)) e[k] = isSecretKey(k) ? REDACTED : redact(v, seen);
    return e;
  }
  if (value instanceof Uint8Array || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== null && v !== undefined ? REDACTED : redact(v, seen);
  }
  return out;
}

export interface LoggerOptions {
  level?: LevelWithSilent;
  name?: string;
  /** Defaults to stdout (fd 1), or stderr with `stderr: true`. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
  /** Log to stderr: for CLI commands whose stdout carries query output. */
  stderr?: boolean;
  base?: Record<string, unknown>;
}

/** A pino logger whose every object argument and message passes through `redact`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'cdc-lake',
      base: opts.base ?? { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: (e: unknown) => redact(e), error: (e: unknown) => redact(e) },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => redact(a)) as Parameters<typeof method>;
          method.apply(this, clean);
        },
      },
    },
    opts.destination ?? pino.destination({ dest: opts.stderr ? 2 : 1, sync: false }),
  );
}
