/**
 * Confluent-compatible schema registry client: GET /schemas/ids/{id}, cached forever (ids
 * are immutable), basic auth or bearer token, retries with exponential backoff on network
 * errors and 5xx/429. Schema references (`references: [{name, subject, version}]`, as
 * Apicurio's converter writes for Debezium's shared `Source` record) are fetched from
 * GET /subjects/{subject}/versions/{version} and inlined, so callers get one self-contained
 * schema. The only I/O in src/debezium.
 */
import { inlineNamedTypes } from './avro.js';

export type RegistryAuth = { username: string; password: string } | { bearerToken: string };

export interface SchemaRegistryOptions {
  url: string;
  auth?: RegistryAuth;
  /** Attempts after the first; default 4. */
  retries?: number;
  /** First backoff in ms, doubled each retry; default 100. */
  backoffMs?: number;
  timeoutMs?: number;
}

/** What the decoder needs from a registry (a fake in tests, this client in production). */
export interface SchemaSource {
  /** The schema text registered under `id`; rejects with SchemaRegistryError. */
  schemaById(id: number): Promise<string>;
}

export class SchemaRegistryError extends Error {
  constructor(
    readonly schemaId: number,
    readonly url: string,
    /** HTTP status, or null for a network failure. */
    readonly status: number | null,
    detail: string,
  ) {
    super(`schema registry lookup of schema id ${schemaId} at ${url} failed: ${detail}`);
    this.name = 'SchemaRegistryError';
  }

  /** 404: the id does not exist (bad input, not an outage). */
  get notFound(): boolean {
    return this.status === 404;
  }
}

/** One entry of a Confluent `references` list. */
export interface SchemaReference {
  /** The full Avro name the referencing schema uses. */
  name: string;
  subject: string;
  version: number;
}

function checkReferences(refs: unknown, id: number, url: string): SchemaReference[] {
  if (refs === undefined || refs === null) return [];
  const ok = Array.isArray(refs) && refs.every((r: unknown) => {
    const o = r as Partial<SchemaReference> | null;
    return typeof o?.name === 'string' && typeof o.subject === 'string' && (typeof o.version === 'number' || typeof o.version === 'string');
  });
  if (!ok) throw new SchemaRegistryError(id, url, null, 'response "references" is not a list of {name, subject, version}');
  return refs as SchemaReference[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SchemaRegistryClient implements SchemaSource {
  private readonly cache = new Map<number, Promise<string>>();
  /** Resolved referenced schemas by subject-version URL. */
  private readonly refCache = new Map<string, string>();
  private readonly base: string;
  private readonly headers: Record<string, string>;
  constructor(private readonly opts: SchemaRegistryOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.headers = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    const a = opts.auth;
    if (a && 'bearerToken' in a) this.headers['authorization'] = `Bearer ${a.bearerToken}`;
    else if (a) this.headers['authorization'] = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
  }

  schemaById(id: number): Promise<string> {
    let p = this.cache.get(id);
    if (!p) {
      p = this.fetchSchema(id);
      this.cache.set(id, p);
      // Failures are not cached: the next record retries.
      p.catch(() => this.cache.delete(id));
    }
    return p;
  }

  private async fetchSchema(id: number): Promise<string> {
    return this.resolve(id, `${this.base}/schemas/ids/${id}`, []);
  }

  /**
   * The schema at `url` with its references inlined. `chain` is the `subject/version` path
   * from the id to here: a reference back into it is a cycle, which Avro cannot express.
   */
  private async resolve(id: number, url: string, chain: readonly string[]): Promise<string> {
    const body = await this.getSchemaJson(id, url);
    const refs = body.references ?? [];
    if (refs.length === 0) return body.schema;
    const named = new Map<string, unknown>();
    for (const r of refs) {
      const at = `${r.subject}/${String(r.version)}`;
      if (chain.includes(at)) {
        throw new SchemaRegistryError(id, url, null, `schema reference cycle ${[...chain, at].join(' → ')}: fix the references registered under subject ${r.subject}`);
      }
      named.set(r.name, JSON.parse(await this.referenced(id, r, [...chain, at])) as unknown);
    }
    return JSON.stringify(inlineNamedTypes(JSON.parse(body.schema) as unknown, named));
  }

  /**
   * A referenced subject version, resolved. Numbered versions are immutable, so they are
   * cached like ids (every Debezium envelope references the same `Source` record); only
   * finished resolutions are cached, so concurrent lookups cannot wait on each other.
   * "latest" is fetched each time.
   */
  private async referenced(id: number, r: SchemaReference, chain: readonly string[]): Promise<string> {
    const url = `${this.base}/subjects/${encodeURIComponent(r.subject)}/versions/${encodeURIComponent(String(r.version))}`;
    const cached = this.refCache.get(url);
    if (cached !== undefined) return cached;
    let text: string;
    try {
      text = await this.resolve(id, url, chain);
    } catch (e) {
      if (!(e instanceof SchemaRegistryError && e.notFound && e.url === url)) throw e;
      throw new SchemaRegistryError(id, url, 404, `referenced type ${r.name} (subject ${r.subject}, version ${String(r.version)}) is not in the registry: register it, or fix the references of schema id ${id}`);
    }
    if (/^\d+$/.test(String(r.version))) this.refCache.set(url, text);
    return text;
  }

  private async getSchemaJson(id: number, url: string): Promise<{ schema: string; references?: SchemaReference[] }> {
    const retries = this.opts.retries ?? 4;
    let delay = this.opts.backoffMs ?? 100;
    for (let attempt = 0; ; attempt++) {
      let err: SchemaRegistryError;
      try {
        const res = await fetch(url, { headers: this.headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
        if (res.ok) {
          const body = (await res.json()) as { schema?: unknown; schemaType?: string; references?: unknown };
          if (typeof body.schema !== 'string') throw new SchemaRegistryError(id, url, res.status, 'response has no "schema" string');
          if (body.schemaType && body.schemaType !== 'AVRO') throw new SchemaRegistryError(id, url, res.status, `schema type ${body.schemaType} is not AVRO`);
          return { schema: body.schema, references: checkReferences(body.references, id, url) };
        }
        const text = (await res.text()).slice(0, 200);
        err = new SchemaRegistryError(id, url, res.status, `HTTP ${res.status} ${text}`);
        if (res.status < 500 && res.status !== 429) throw err;
      } catch (e) {
        if (e instanceof SchemaRegistryError && (e.status === null || e.status < 500) && e.status !== 429) throw e;
        err = e instanceof SchemaRegistryError ? e : new SchemaRegistryError(id, url, null, (e as Error).message);
      }
      if (attempt >= retries) throw err;
      await sleep(delay);
      delay *= 2;
    }
  }
}
