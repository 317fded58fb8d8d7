/**
 * Lake URI → ObjectStore: a path, `file://…` or `s3://bucket[/prefix]`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStore } from './local-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store, type S3StoreOptions } from './s3-store.js';

/** A lake URI the user typed that we cannot use; the message is one line and says what is accepted. */
export class InvalidLakeUri extends Error {
  constructor(
    readonly uri: string,
    readonly reason: string,
  ) {
    super(`invalid lake URI ${JSON.stringify(uri)}: ${reason}; use a folder path, file:///abs/path or s3://bucket/prefix`);
    this.name = 'InvalidLakeUri';
  }
}

export interface OpenStoreOptions {
  /** Extra S3 settings (client, endpoint, region, path-style, multipart) for `s3://` URIs. */
  s3?: Omit<S3StoreOptions, 'bucket' | 'prefix'>;
}

/** Where a lake URI points, without opening anything (pure; used by openStore and for messages). */
export type LakeLocation = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

export function parseLakeUri(uri: string): LakeLocation {
  const u = uri.trim();
  if (u === '') throw new InvalidLakeUri(uri, 'it is empty');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(u)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(u) && !/^[a-zA-Z]:[\\/]/.test(u)) throw new InvalidLakeUri(uri, 'unknown scheme');
    return { kind: 'local', dir: path.resolve(u) };
  }
  if (scheme === 'file') {
    let dir: string;
    try {
      dir = fileURLToPath(u);
    } catch (e) {
      throw new InvalidLakeUri(uri, e instanceof Error ? e.message : String(e));
    }
    return { kind: 'local', dir };
  }
  if (scheme === 's3' || scheme === 's3a') {
    const rest = u.slice(scheme.length + 3);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    // S3 bucket naming rules (3–63 chars, lowercase letters, digits, dots, hyphens).
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new InvalidLakeUri(uri, `"${bucket}" is not a valid S3 bucket name`);
    if (prefix !== '' && prefix.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw new InvalidLakeUri(uri, 'the prefix must not contain empty, "." or ".." segments');
    }
    return { kind: 's3', bucket, prefix: prefix === '' ? '' : prefix + '/' };
  }
  throw new InvalidLakeUri(uri, `scheme "${scheme}://" is not supported`);
}

export function openStore(uri: string, opts: OpenStoreOptions = {}): ObjectStore {
  const loc = parseLakeUri(uri);
  if (loc.kind === 'local') return new LocalStore(loc.dir);
  return new S3Store({ ...opts.s3, bucket: loc.bucket, prefix: loc.prefix });
}
