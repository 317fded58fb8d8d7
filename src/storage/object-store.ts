/**
 * Where a table's bytes live. One interface for a local folder and S3 so that the
 * table layer never knows which one it writes to. Keys are '/'-separated paths
 * relative to the store's root (no leading slash).
 */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

export interface ListOptions {
  except?: string;
}

export interface GetOptions {
  /** Inclusive byte range start. */
  offset?: number;
  /** Number of bytes from `offset`. */
  length?: number;
}

export interface ObjectStore {
  /** Human-readable root, e.g. `file:///data/lake` or `s3://bucket/prefix`. */
  readonly uri: string;
  get(key: string, opts?: GetOptions): Promise<Uint8Array>;
  /** `undefined` when the object does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  put(key: string, data: Uint8Array | string): Promise<void>;
  /**
   * Atomically create `key` only if it does not exist yet (S3 `If-None-Match: *`,
   * a hard link on a local disk). Returns false when it already existed: the
   * caller lost a race and must not assume its write is visible.
   */
  createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Every object whose key starts with `prefix`, recursively, in key order; with `except` (a
   * folder under `prefix`, ending in '/'), none under that folder — not even listed, so a
   * table's listing does not read its timeline's thousands of files.
   */
  list(prefix: string, opts?: ListOptions): Promise<ObjectInfo[]>;
  /**
   * Immediate children of a "folder" prefix (with or without the trailing '/'): files, and
   * sub-folders as full keys relative to the store root ending in '/' (like S3 CommonPrefixes),
   * e.g. listDir('t1') → { files: [{key:'t1/hoodie.properties',…}], dirs: ['t1/.hoodie/'] }.
   */
  listDir(prefix: string): Promise<{ files: ObjectInfo[]; dirs: string[] }>;
  /** Releases network clients and the like; optional, a no-op for a local folder. */
  close?(): Promise<void>;
}

/** A storage failure a user can act on: names the operation, the object and the cause. */
export class StorageError extends Error {
  constructor(
    readonly op: string,
    readonly key: string,
    readonly storeUri: string,
    cause: unknown,
    /** The store was unreachable or failing through all of its retries (an outage waiting may end), not refusing the request. */
    readonly outage = false,
  ) {
    super(`${op} ${storeUri.replace(/\/$/, '')}/${key} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StorageError';
  }
}

/** A `get` of a key that does not exist. Subclass of StorageError so callers may test `instanceof`. */
export class ObjectNotFound extends StorageError {
  constructor(key: string, storeUri: string, cause?: unknown) {
    super('get', key, storeUri, cause ?? new Error('object does not exist'));
    this.name = 'ObjectNotFound';
  }
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

/** Rejects keys that could escape the store root or that no object store can hold. */
export function checkKey(key: string, storeUri: string, op: string): void {
  const bad =
    key.startsWith('/') ||
    key.includes('\0') ||
    key.split('/').some((part) => part === '..' || part === '.');
  if (bad) throw new StorageError(op, key, storeUri, new Error('invalid key: must be a relative path without "." or ".." segments'));
}
