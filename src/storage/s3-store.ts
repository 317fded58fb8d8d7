/**
 * An ObjectStore on S3 (or an S3-compatible server such as moto/MinIO) via @aws-sdk/client-s3.
 *
 * Retries: S3RetryStrategy (the SDK's error classes, full-jitter backoff, no shared quota) covers
 * throttling, 5xx and transient network errors (ECONNRESET, EPIPE, timeouts); a body cut off
 * mid-stream is re-read by `get`. Conditional create uses `If-None-Match: *`, so a 412 means another writer won.
 * Big puts go through multipart upload (hand-rolled: three calls, no extra dependency).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { compareKeys } from './local-store.js';
import { checkKey, ObjectNotFound, StorageError, toBytes, type GetOptions, type ListOptions, type ObjectInfo, type ObjectStore } from './object-store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket ('' or 'lake/'; a trailing '/' is added when missing). */
  prefix?: string;
  /** A ready client; otherwise one is built from the standard AWS environment/config plus the fields below. */
  client?: S3Client;
  region?: string;
  /** Custom endpoint; defaults to `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` (the SDK reads them too). */
  endpoint?: string;
  /** Path-style addressing (`http://host/bucket/key`); defaults to true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Total attempts per request, first try included (default 6). */
  maxAttempts?: number;
  /** Backoff base in ms (default 100): retry n waits uniform [0, base · 2^n), throttling two steps longer. */
  retryBaseDelayMs?: number;
  /** Puts at or above this many bytes use multipart upload (default 64 MiB; min part size is 5 MiB). */
  multipartThreshold?: number;
  /** Part size for multipart uploads (default 16 MiB). */
  partSize?: number;
  /** Keys per ListObjectsV2 page (default: the server's, 1000 on S3); small values exercise pagination in tests. */
  listPageSize?: number;
}

const MIB = 1024 * 1024;

/** Full-jitter exponential backoff before retry `attempt` (1-based): uniform in [0, min(20 s, base · 2^attempt)). */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 100): number {
  return Math.floor(random() * Math.min(20_000, baseMs * 2 ** attempt));
}

interface SdkErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function httpStatus(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null ? (e as SdkErrorShape).$metadata?.httpStatusCode : undefined;
}

function errName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? ((e as SdkErrorShape).name ?? (e as SdkErrorShape).Code) : undefined;
}

/**
 * Errors the retry strategy gave up on after all attempts though the SDK classed them
 * transient or throttling (the SDK rethrows that same error object): an outage.
 */
const outlasted = new WeakSet<object>();

type RetryStrategyV2 = Extract<NonNullable<S3ClientConfig['retryStrategy']>, { acquireInitialRetryToken: unknown }>;
type RetryToken = Awaited<ReturnType<RetryStrategyV2['acquireInitialRetryToken']>>;
type RetryErrorInfo = Parameters<RetryStrategyV2['refreshRetryTokenForRetry']>[1];

/**
 * The SDK's standard strategy with its shared retry quota removed: that quota (500 tokens,
 * 5–10 per retry, +1 per success) drains under a sustained share of 5xx/SlowDown/resets and then
 * fails every request on its first error — a store whose only job is to finish commits would
 * turn a brownout into failed commits. Here each request gets `maxAttempts` with full-jitter
 * backoff (longer base for throttling, at least a server's Retry-After, capped at 20 s).
 */
export class S3RetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  constructor(
    readonly maxAttempts: number,
    private readonly baseDelayMs = 100,
    private readonly random: () => number = Math.random,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return retryToken(0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retries = token.getRetryCount() + 1;
    const retryable = info.errorType === 'TRANSIENT' || info.errorType === 'THROTTLING';
    if (retries >= this.maxAttempts || !retryable) {
      const error = info.error ?? new Error(`S3 request failed (${info.errorType}) after ${retries} attempts`);
      if (retryable) outlasted.add(error);
      throw error;
    }
    let delay = backoffMs(retries + (info.errorType === 'THROTTLING' ? 2 : 0), this.random, this.baseDelayMs);
    if (info.retryAfterHint) delay = Math.max(delay, Math.min(20_000, info.retryAfterHint.getTime() - Date.now()));
    return retryToken(retries, delay);
  }

  recordSuccess(): void {}
}

function retryToken(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}

export function s3ClientConfig(opts: Pick<S3StoreOptions, 'region' | 'endpoint' | 'forcePathStyle' | 'maxAttempts' | 'retryBaseDelayMs'>): S3ClientConfig {
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const config: S3ClientConfig = {
    retryStrategy: new S3RetryStrategy(Math.max(1, opts.maxAttempts ?? 6), opts.retryBaseDelayMs ?? 100),
    // Without these a server that accepts a connection and then goes silent stalls a commit forever;
    // a timed-out request is retried like a reset (the SDK classifies TimeoutError as transient).
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
  };
  if (region) config.region = region;
  else if (endpoint) config.region = 'us-east-1'; // S3-compatible servers rarely care; the SDK insists on one
  if (endpoint) config.endpoint = endpoint;
  const pathStyle = opts.forcePathStyle ?? (endpoint !== undefined ? true : undefined);
  if (pathStyle !== undefined) config.forcePathStyle = pathStyle;
  return config;
}

export class S3Store implements ObjectStore {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly listPageSize: number | undefined;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    const p = (opts.prefix ?? '').replace(/^\/+/, '');
    this.prefix = p === '' || p.endsWith('/') ? p : p + '/';
    this.uri = `s3://${this.bucket}/${this.prefix}`;
    this.ownsClient = opts.client === undefined;
    this.client = opts.client ?? new S3Client(s3ClientConfig(opts));
    this.partSize = Math.max(5 * MIB, opts.partSize ?? 16 * MIB);
    this.multipartThreshold = Math.max(this.partSize, opts.multipartThreshold ?? 64 * MIB);
    this.listPageSize = opts.listPageSize;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 6);
    this.retryBaseDelayMs = opts.retryBaseDelayMs ?? 100;
  }

  private fullKey(key: string, op: string): string {
    checkKey(key, this.uri, op);
    return this.prefix + key;
  }

  /** The request failed for good; an outage if the retries outlasted a transient error. */
  private failure(op: string, key: string, e: unknown): StorageError {
    return new StorageError(op, key, this.uri, e, typeof e === 'object' && e !== null && outlasted.has(e));
  }

  private stripPrefix(fullKey: string): string {
    return fullKey.startsWith(this.prefix) ? fullKey.slice(this.prefix.length) : fullKey;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
    const Key = this.fullKey(key, 'get');
    let Range: string | undefined;
    if (opts.offset !== undefined || opts.length !== undefined) {
      const start = opts.offset ?? 0;
      if (opts.length === 0) return new Uint8Array(0);
      Range = opts.length === undefined ? `bytes=${start}-` : `bytes=${start}-${start + opts.length - 1}`;
    }
    // The SDK retries a request until its response headers arrive; a connection that dies while the
    // body streams in surfaces later, in transformToByteArray, and is retried here (same backoff shape).
    for (let attempt = 1; ; attempt++) {
      let res: GetObjectCommandOutput;
      try {
        res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }));
      } catch (e) {
        if (errName(e) === 'NoSuchKey' || httpStatus(e) === 404) throw new ObjectNotFound(key, this.uri, e);
        if (httpStatus(e) === 416) return new Uint8Array(0); // range starts at/after the end
        throw this.failure('get', key, e);
      }
      if (!res.Body) return new Uint8Array(0);
      try {
        const bytes = await res.Body.transformToByteArray();
        if (res.ContentLength !== undefined && bytes.byteLength !== res.ContentLength) {
          throw new Error(`response body ended after ${bytes.byteLength} of ${res.ContentLength} bytes`);
        }
        return bytes;
      } catch (e) {
        if (attempt >= this.maxAttempts) throw new StorageError('get', key, this.uri, new Error(`reading the body failed ${attempt} times, last: ${e instanceof Error ? e.message : String(e)}`, { cause: e }), true);
        await sleep(backoffMs(attempt, Math.random, this.retryBaseDelayMs));
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.fullKey(key, 'head');
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      const info: ObjectInfo = { key, size: res.ContentLength ?? 0 };
      if (res.LastModified) info.lastModified = res.LastModified;
      return info;
    } catch (e) {
      if (httpStatus(e) === 404 || errName(e) === 'NotFound' || errName(e) === 'NoSuchKey') return undefined;
      throw this.failure('head', key, e);
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const Key = this.fullKey(key, 'put');
    const body = toBytes(data);
    try {
      if (body.byteLength >= this.multipartThreshold) await this.multipartPut(Key, body);
      else await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.byteLength }));
    } catch (e) {
      throw this.failure('put', key, e);
    }
  }

  private async multipartPut(Key: string, body: Uint8Array): Promise<void> {
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key }));
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let off = 0, n = 1; off < body.byteLength; off += this.partSize, n++) {
        const chunk = body.subarray(off, Math.min(off + this.partSize, body.byteLength));
        const res = await this.client.send(
          new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber: n, Body: chunk, ContentLength: chunk.byteLength }),
        );
        if (!res.ETag) throw new Error(`UploadPart ${n} returned no ETag`);
        parts.push({ ETag: res.ETag, PartNumber: n });
      }
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (e) {
      // Abandoned parts cost money until a lifecycle rule removes them; abort best-effort.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => undefined);
      throw e;
    }
  }

  async createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    const Key = this.fullKey(key, 'createIfAbsent');
    const body = toBytes(data);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.byteLength, IfNoneMatch: '*' }));
      return true;
    } catch (e) {
      // 412: the object exists. 409 ConditionalRequestConflict: a concurrent conditional write is in flight and will win.
      if (httpStatus(e) === 412 || errName(e) === 'PreconditionFailed') {
        // After a retry the 412 may answer our own earlier attempt whose response was lost
        // (e.g. a connection reset after the write). Only then: it is ours if it holds our bytes.
        const attempts = typeof e === 'object' && e !== null ? ((e as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) : 1;
        if (attempts > 1) {
          const stored = await this.get(key).catch(() => undefined);
          if (stored && Buffer.from(stored).equals(Buffer.from(body.buffer, body.byteOffset, body.byteLength))) return true;
        }
        return false;
      }
      if (httpStatus(e) === 409 && errName(e) === 'ConditionalRequestConflict') return false;
      throw this.failure('createIfAbsent', key, e);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.fullKey(key, 'delete');
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (httpStatus(e) === 404) return;
      throw this.failure('delete', key, e);
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ObjectInfo[]> {
    checkKey(prefix, this.uri, 'list');
    const out: ObjectInfo[] = [];
    const except = opts.except;
    try {
      if (except === undefined) await this.listRange(prefix, out);
      else {
        // Keys sort by their bytes, so those under `except` lie between it and the folder's name
        // with '0' (the byte after '/') in place of its slash: list before it, then after that
        // (a key named exactly so is skipped too; a table has none).
        await this.listRange(prefix, out, { before: except });
        await this.listRange(prefix, out, { after: `${except.slice(0, -1)}0` });
      }
    } catch (e) {
      throw this.failure('list', prefix, e);
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  private async listRange(prefix: string, out: ObjectInfo[], range: { before?: string; after?: string } = {}): Promise<void> {
    let ContinuationToken: string | undefined;
    const StartAfter = range.after === undefined ? undefined : this.prefix + range.after;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken, StartAfter, MaxKeys: this.listPageSize }),
      );
      for (const o of res.Contents ?? []) {
        if (o.Key === undefined) continue;
        const key = this.stripPrefix(o.Key);
        if (range.before !== undefined && compareKeys(key, range.before) >= 0) return;
        const info: ObjectInfo = { key, size: o.Size ?? 0 };
        if (o.LastModified) info.lastModified = o.LastModified;
        out.push(info);
      }
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async listDir(prefix: string): Promise<{ files: ObjectInfo[]; dirs: string[] }> {
    checkKey(prefix, this.uri, 'listDir');
    const dirKey = prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/';
    const files: ObjectInfo[] = [];
    const dirs: string[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const res = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + dirKey, Delimiter: '/', ContinuationToken, MaxKeys: this.listPageSize }),
        );
        for (const o of res.Contents ?? []) {
          if (o.Key === undefined) continue;
          const info: ObjectInfo = { key: this.stripPrefix(o.Key), size: o.Size ?? 0 };
          if (o.LastModified) info.lastModified = o.LastModified;
          files.push(info);
        }
        for (const cp of res.CommonPrefixes ?? []) if (cp.Prefix) dirs.push(this.stripPrefix(cp.Prefix));
        ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (ContinuationToken);
    } catch (e) {
      throw this.failure('listDir', prefix, e);
    }
    files.sort((a, b) => compareKeys(a.key, b.key));
    dirs.sort(compareKeys);
    return { files, dirs };
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
