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
  /** Every object whose key starts with `prefix`, recursively, in key order. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Immediate children of a "folder" prefix: files and sub-folder names (ending in '/'). */
  listDir(prefix: string): Promise<{ files: ObjectInfo[]; dirs: string[] }>;
}

/** A storage failure a user can act on: names the operation, the object and the cause. */
export class StorageError extends Error {
  constructor(
    readonly op: string,
    readonly key: string,
    readonly storeUri: string,
    cause: unknown,
  ) {
    super(`${op} ${storeUri.replace(/\/$/, '')}/${key} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StorageError';
  }
}
