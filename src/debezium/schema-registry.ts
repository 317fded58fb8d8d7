/**
 * Schema registry client. A record's 4-byte schema id (Confluent's framing, and Apicurio's
 * with `as-confluent`) is looked up through the Confluent-compatible API
 * (GET /schemas/ids/{id}); an 8-byte id (Apicurio's own framing, its converter's default)
 * through Apicurio's API (GET /ids/globalIds/{id} or /ids/contentIds/{id}). Apicurio serves
 * both side by side (`/apis/ccompat/v7`, `/apis/registry/v2`), so either address of it
 * reaches both. Schemas are cached forever (ids are immutable); basic auth or bearer token;
 * retries with exponential backoff on network errors and 5xx/429. Schema references (as
 * Apicurio's converter registers Debezium's shared `Source` record) are fetched and
 * inlined, so callers get one self-contained schema. The only I/O in src/debezium.
 */
import { inlineNamedTypes, schemaKey } from './avro.js';

export type RegistryAuth = { username: string; password: string } | { bearerToken: string };

export interface SchemaRegistryOptions {
  /** The Confluent-compatible API, or Apicurio's `/apis/ccompat/v7` or `/apis/registry/v2`. */
  url: string;
  auth?: RegistryAuth;
  /** What 8-byte schema ids are (Apicurio's converter setting `apicurio.registry.use-id`); default globalId, as Apicurio's. */
  apicurioIdType?: 'globalId' | 'contentId';
  /** Attempts after the first; default 4. */
  retries?: number;
  /** First backoff in ms, doubled each retry; default 100. */
  backoffMs?: number;
  timeoutMs?: number;
}

/** What the decoder needs from a registry (a fake in tests, this client in production). */
export interface SchemaSource {
  /**
   * The schema text registered under `id`, as the record's framing wrote it: in 4 bytes
   * (Confluent) or 8 (Apicurio). Rejects with SchemaRegistryError.
   */
  schemaById(id: number, idBytes?: 4 | 8): Promise<string>;
}

export class SchemaRegistryError extends Error {
  constructor(
    readonly schemaId: number,
    readonly url: string,
    /** HTTP status, or null for a network failure (or a lookup never sent). */
    readonly status: number | null,
    detail: string,
    /** A lookup this registry can never answer (not an outage), though nothing said 404. */
    private readonly unanswerable = false,
  ) {
    super(`schema registry lookup of schema id ${schemaId} at ${url} failed: ${detail}`);
    this.name = 'SchemaRegistryError';
  }

  /** 404: the id does not exist (bad input, not an outage). */
  get notFound(): boolean {
    return this.status === 404;
  }

  /** Asking again cannot help (the id or a reference does not exist, or no API serves it): the record is bad input. */
  get permanent(): boolean {
    return this.notFound || this.unanswerable;
  }

  /** The registry was unreachable or failing (network, 5xx, 429) through the retries: waiting may end it, unlike a refusal (401, 403). */
  get outage(): boolean {
    return !this.unanswerable && (this.status === null || this.status >= 500 || this.status === 429);
  }
}

/** A reference of a schema to a named type registered on its own, located. */
interface Reference {
  /** The full Avro name the referencing schema uses. */
  name: string;
  /** Where its schema is (and its own references are found from there). */
  url: string;
  /** For messages and cycle checks: `subject/version` or `group/artifact/version`. */
  at: string;
  /** How a user finds it: `subject X, version N` or `artifact G/A, version V`. */
  where: string;
  /** Numbered versions never change: resolved once per client. */
  immutable: boolean;
}

/** A registered schema's text and the references it uses. */
interface Registered {
  schema: string;
  references: Reference[];
}

/** How one API reads a registered schema at a URL. */
type ReadRegistered = (id: number, url: string) => Promise<Registered>;

const NUMBERED = /^\d+$/;

/**
 * The two APIs' base addresses. Apicurio serves both under one root; any other URL is
 * taken as a Confluent-compatible registry, which has no 8-byte ids.
 */
export function registryApis(url: string): { confluent: string; apicurio: string | undefined } {
  const base = url.replace(/\/+$/, '');
  const m = /^(.*)\/apis\/(ccompat\/v\d+|registry\/v2)$/.exec(base);
  if (m === null) return { confluent: base, apicurio: undefined };
  const root = m[1] as string;
  return { confluent: (m[2] as string).startsWith('ccompat') ? base : `${root}/apis/ccompat/v7`, apicurio: `${root}/apis/registry/v2` };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A `references` list the response carries, checked: entries must have these string (or number) fields. */
function referenceList(refs: unknown, fields: readonly string[], id: number, url: string): Array<Record<string, string>> {
  if (refs === undefined || refs === null) return [];
  const ok = Array.isArray(refs) && refs.every((r: unknown) => {
    const o = r as Record<string, unknown> | null;
    return o !== null && typeof o === 'object' && fields.every((f) => typeof o[f] === 'string' || typeof o[f] === 'number');
  });
  if (!ok) throw new SchemaRegistryError(id, url, null, `response "references" is not a list of {${fields.join(', ')}}`);
  return (refs as Array<Record<string, unknown>>).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)])));
}

export class SchemaRegistryClient implements SchemaSource {
  /** Resolutions by schema key (`schemaKey`: the two id spaces differ). */
  private readonly cache = new Map<number, Promise<string>>();
  /** Resolved referenced schemas by URL (numbered versions only). */
  private readonly refCache = new Map<string, string>();
  private readonly apis: ReturnType<typeof registryApis>;
  private readonly headers: Record<string, string>;
  constructor(private readonly opts: SchemaRegistryOptions) {
    this.apis = registryApis(opts.url);
    this.headers = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    const a = opts.auth;
    if (a && 'bearerToken' in a) this.headers['authorization'] = `Bearer ${a.bearerToken}`;
    else if (a) this.headers['authorization'] = `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
  }

  schemaById(id: number, idBytes: 4 | 8 = 4): Promise<string> {
    const key = schemaKey(id, idBytes);
    let p = this.cache.get(key);
    if (!p) {
      p = idBytes === 4 ? this.resolve(id, `${this.apis.confluent}/schemas/ids/${id}`, [], this.confluentSchema) : this.apicurioById(id);
      this.cache.set(key, p);
      // Failures are not cached: the next record retries.
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private async apicurioById(id: number): Promise<string> {
    const idType = this.opts.apicurioIdType ?? 'globalId';
    if (this.apis.apicurio === undefined) {
      throw new SchemaRegistryError(
        id,
        this.opts.url,
        null,
        `the record carries an 8-byte schema id (Apicurio's own framing), which only Apicurio's API resolves: set source.schemaRegistry.url to Apicurio's …/apis/registry/v2 address, or have the converter write Confluent's framing (apicurio.registry.as-confluent=true)`,
        true,
      );
    }
    return this.resolve(id, `${this.apis.apicurio}/ids/${idType}s/${id}`, [], this.apicurioSchema);
  }

  /**
   * The schema at `url` with its references inlined. `chain` is the path of references
   * from the id to here: a reference back into it is a cycle, which Avro cannot express.
   */
  private async resolve(id: number, url: string, chain: readonly string[], read: ReadRegistered): Promise<string> {
    const body = await read(id, url);
    if (body.references.length === 0) return body.schema;
    const named = new Map<string, unknown>();
    for (const r of body.references) {
      if (chain.includes(r.at)) {
        throw new SchemaRegistryError(id, url, null, `schema reference cycle ${[...chain, r.at].join(' → ')}: fix the references registered for ${r.where}`, true);
      }
      named.set(r.name, JSON.parse(await this.referenced(id, r, [...chain, r.at], read)) as unknown);
    }
    return JSON.stringify(inlineNamedTypes(JSON.parse(body.schema) as unknown, named));
  }

  /**
   * A referenced schema, resolved. Numbered versions are immutable, so they are cached like
   * ids (every Debezium envelope references the same `Source` record); only finished
   * resolutions are cached, so concurrent lookups cannot wait on each other. "latest" is
   * fetched each time.
   */
  private async referenced(id: number, r: Reference, chain: readonly string[], read: ReadRegistered): Promise<string> {
    const cached = this.refCache.get(r.url);
    if (cached !== undefined) return cached;
    let text: string;
    try {
      text = await this.resolve(id, r.url, chain, read);
    } catch (e) {
      if (!(e instanceof SchemaRegistryError && e.notFound && e.url === r.url)) throw e;
      throw new SchemaRegistryError(id, r.url, 404, `referenced type ${r.name} (${r.where}) is not in the registry: register it, or fix the references of schema id ${id}`);
    }
    if (r.immutable) this.refCache.set(r.url, text);
    return text;
  }

  /** Confluent: `{schema, schemaType, references: [{name, subject, version}]}` in one response. */
  private readonly confluentSchema: ReadRegistered = async (id, url) => {
    const body = (await this.request(id, url, (res) => res.json())) as { schema?: unknown; schemaType?: string; references?: unknown };
    if (typeof body.schema !== 'string') throw new SchemaRegistryError(id, url, 200, 'response has no "schema" string');
    if (body.schemaType && body.schemaType !== 'AVRO') throw new SchemaRegistryError(id, url, 200, `schema type ${body.schemaType} is not AVRO`, true);
    const references = referenceList(body.references, ['name', 'subject', 'version'], id, url).map((r): Reference => ({
      name: r['name'] as string,
      url: `${this.apis.confluent}/subjects/${encodeURIComponent(r['subject'] as string)}/versions/${encodeURIComponent(r['version'] as string)}`,
      at: `${r['subject']}/${r['version']}`,
      where: `subject ${r['subject']}, version ${r['version']}`,
      immutable: NUMBERED.test(r['version'] as string),
    }));
    return { schema: body.schema, references };
  };

  /**
   * Apicurio: the schema text itself, and its references (`[{groupId, artifactId, version,
   * name}]`, no group meaning the default one) from `<url>/references`; a referenced
   * version's own are under its version URL the same way.
   */
  private readonly apicurioSchema: ReadRegistered = async (id, url) => {
    const [schema, refs] = await Promise.all([this.request(id, url, (res) => res.text()), this.request(id, `${url}/references`, (res) => res.json())]);
    const references = referenceList(refs, ['artifactId', 'version', 'name'], id, `${url}/references`).map((r): Reference => {
      const group = r['groupId'] || 'default';
      const at = `${group}/${r['artifactId']}/${r['version']}`;
      return {
        name: r['name'] as string,
        url: `${this.apis.apicurio}/groups/${encodeURIComponent(group)}/artifacts/${encodeURIComponent(r['artifactId'] as string)}/versions/${encodeURIComponent(r['version'] as string)}`,
        at,
        where: `artifact ${at.slice(0, at.lastIndexOf('/'))}, version ${r['version']}`,
        immutable: NUMBERED.test(r['version'] as string),
      };
    });
    return { schema, references };
  };

  /** GET `url` and read the answer, retrying network errors, 5xx and 429 with backoff. */
  private async request<T>(id: number, url: string, read: (res: Response) => Promise<T>): Promise<T> {
    const retries = this.opts.retries ?? 4;
    let delay = this.opts.backoffMs ?? 100;
    for (let attempt = 0; ; attempt++) {
      let err: SchemaRegistryError;
      try {
        const res = await fetch(url, { headers: this.headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
        if (res.ok) return await read(res);
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
