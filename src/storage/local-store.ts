/**
 * An ObjectStore on a local folder. Writes go to a temp file first and are then renamed
 * (put) or hard-linked (createIfAbsent) into place, so a reader never sees a partial file
 * and a crash never leaves one under a real key.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkKey, ObjectNotFound, StorageError, toBytes, type GetOptions, type ListOptions, type ObjectInfo, type ObjectStore } from './object-store.js';

/** Folder under the root for in-flight writes; never listed. Same filesystem, so rename/link stay atomic. */
export const LOCAL_TEMP_DIR = '.cdc-lake-tmp';

function errCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

/**
 * Runs `op`; only when it fails because folder `dir` is missing, creates it and runs `op` once
 * more. One mkdir per new folder instead of a recursive mkdir before every write.
 */
async function inFolder<T>(dir: string, op: () => Promise<T>): Promise<T> {
  // A delete that empties the folder removes it (`delete`): create it again and retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (errCode(e) !== 'ENOENT' || attempt === 4) throw e;
      await fs.mkdir(dir, { recursive: true });
    }
  }
}

/** Writes all of `bytes` with as few write calls as the OS allows (`FileHandle.writeFile` issues one per 512 KiB). */
async function writeAll(fh: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

export class LocalStore implements ObjectStore {
  readonly uri: string;
  readonly rootDir: string;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
    this.uri = pathToFileURL(this.rootDir).href;
  }

  private pathOf(key: string, op: string): string {
    checkKey(key, this.uri, op);
    return path.join(this.rootDir, ...key.split('/').filter((p) => p !== ''));
  }

  private async writeTemp(data: Uint8Array | string): Promise<string> {
    const dir = path.join(this.rootDir, LOCAL_TEMP_DIR);
    const tmp = path.join(dir, `${process.pid}-${randomBytes(8).toString('hex')}`);
    const fh = await inFolder(dir, () => fs.open(tmp, 'wx'));
    try {
      await writeAll(fh, toBytes(data));
      // Durability: the rename/link below must not expose an empty file after a power loss.
      await fh.sync();
    } finally {
      await fh.close();
    }
    return tmp;
  }

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
    const file = this.pathOf(key, 'get');
    try {
      if (opts.offset === undefined && opts.length === undefined) return new Uint8Array(await fs.readFile(file));
      const fh = await fs.open(file, 'r');
      try {
        const size = (await fh.stat()).size;
        const offset = opts.offset ?? 0;
        const length = Math.max(0, Math.min(opts.length ?? size - offset, size - offset));
        const buf = new Uint8Array(length);
        let read = 0;
        while (read < length) {
          const { bytesRead } = await fh.read(buf, read, length - read, offset + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return read === length ? buf : buf.subarray(0, read);
      } finally {
        await fh.close();
      }
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'EISDIR') throw new ObjectNotFound(key, this.uri, e);
      throw new StorageError('get', key, this.uri, e);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.pathOf(key, 'head');
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return undefined;
      return { key, size: st.size, lastModified: st.mtime };
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return undefined;
      throw new StorageError('head', key, this.uri, e);
    }
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const file = this.pathOf(key, 'put');
    let tmp: string | undefined;
    try {
      const from = await this.writeTemp(data);
      tmp = from;
      await inFolder(path.dirname(file), () => fs.rename(from, file));
      tmp = undefined;
    } catch (e) {
      throw new StorageError('put', key, this.uri, e);
    } finally {
      if (tmp) await fs.rm(tmp, { force: true });
    }
  }

  async createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    const file = this.pathOf(key, 'createIfAbsent');
    let tmp: string | undefined;
    try {
      const from = await this.writeTemp(data);
      tmp = from;
      // link(2) fails with EEXIST if the target exists: an atomic create-if-absent on POSIX.
      try {
        await inFolder(path.dirname(file), () => fs.link(from, file));
      } catch (e) {
        const code = errCode(e);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
        // No hard links on this filesystem: O_EXCL still makes exactly one creator win, but a
        // reader may briefly see a partly written file.
        await fs.writeFile(file, toBytes(data), { flag: 'wx' });
      }
      return true;
    } catch (e) {
      if (errCode(e) === 'EEXIST') return false;
      throw new StorageError('createIfAbsent', key, this.uri, e);
    } finally {
      if (tmp) await fs.rm(tmp, { force: true });
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key, 'delete');
    try {
      await fs.rm(file, { force: true });
    } catch (e) {
      throw new StorageError('delete', key, this.uri, e);
    }
    // Folders exist while they hold objects, as on an object store: otherwise every instant's
    // emptied marker folder stays, and each listing of the table walks them all.
    for (let dir = path.dirname(file); dir.length > this.rootDir.length && dir.startsWith(this.rootDir); dir = path.dirname(dir)) {
      try {
        await fs.rmdir(dir);
      } catch {
        break; // not empty (or already gone): its parents are not empty either
      }
    }
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ObjectInfo[]> {
    checkKey(prefix, this.uri, 'list');
    // Walk from the deepest folder the prefix names completely, then filter by the prefix string.
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const out: ObjectInfo[] = [];
    const walk = async (dirKey: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(path.join(this.rootDir, dirKey), { withFileTypes: true });
      } catch (e) {
        if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return;
        throw new StorageError('list', prefix, this.uri, e);
      }
      for (const ent of entries) {
        const key = dirKey + ent.name;
        if (key === LOCAL_TEMP_DIR) continue;
        if (ent.isDirectory()) {
          const sub = key + '/';
          if (sub !== opts.except && (sub.startsWith(prefix) || prefix.startsWith(sub))) await walk(sub);
        } else if (ent.isFile() && key.startsWith(prefix)) {
          const st = await fs.stat(path.join(this.rootDir, key)).catch(() => undefined);
          if (st) out.push({ key, size: st.size, lastModified: st.mtime });
        }
      }
    };
    await walk(baseKey);
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async listDir(prefix: string): Promise<{ files: ObjectInfo[]; dirs: string[] }> {
    checkKey(prefix, this.uri, 'listDir');
    const dirKey = prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/';
    let entries;
    try {
      entries = await fs.readdir(path.join(this.rootDir, dirKey), { withFileTypes: true });
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return { files: [], dirs: [] };
      throw new StorageError('listDir', prefix, this.uri, e);
    }
    const files: ObjectInfo[] = [];
    const dirs: string[] = [];
    for (const ent of entries) {
      const key = dirKey + ent.name;
      if (key === LOCAL_TEMP_DIR) continue;
      if (ent.isDirectory()) dirs.push(key + '/');
      else if (ent.isFile()) {
        const st = await fs.stat(path.join(this.rootDir, key)).catch(() => undefined);
        if (st) files.push({ key, size: st.size, lastModified: st.mtime });
      }
    }
    files.sort((a, b) => compareKeys(a.key, b.key));
    dirs.sort(compareKeys);
    return { files, dirs };
  }
}

/** Byte order of the UTF-8 keys, as S3 lists them. */
export function compareKeys(a: string, b: string): number {
  // UTF-16 order equals UTF-8 byte order except around surrogates; only then pay for encoding.
  if (/[\ud800-\uffff]/.test(a) && /[\ud800-\uffff]/.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}
