/**
 * Entry of the compaction worker thread (`compaction-thread.ts` starts it): compacts one
 * file slice per message from the file bytes it is sent and answers with the new base
 * file's bytes, transferred (not copied) back.
 */
import { parentPort } from 'node:worker_threads';
import { ObjectNotFound, StorageError, type GetOptions, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { compactSlice, type SliceCompactionInput, type SliceCompactionOutput } from './compact-slice.js';

export interface CompactionRequest {
  id: number;
  input: SliceCompactionInput;
  /** The slice's files by path, as read by the caller's store. */
  files: Map<string, Uint8Array>;
}

export type CompactionReply = { id: number; output: SliceCompactionOutput } | { id: number; error: { name: string; message: string } };

/** The slice's files, read-only: all the reader asks of a store. */
class SliceFiles implements ObjectStore {
  readonly uri = 'compaction-worker:';
  constructor(private readonly files: Map<string, Uint8Array>) {}

  async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
    const bytes = this.files.get(key);
    if (bytes === undefined) throw new ObjectNotFound(key, this.uri);
    const from = opts.offset ?? 0;
    return bytes.subarray(from, opts.length === undefined ? undefined : from + opts.length);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const bytes = this.files.get(key);
    return bytes === undefined ? undefined : { key, size: bytes.byteLength };
  }

  private readOnly(op: string, key: string): never {
    throw new StorageError(op, key, this.uri, new Error('the compaction worker only reads the slice it was sent'));
  }

  put(key: string): Promise<void> {
    return this.readOnly('put', key);
  }

  createIfAbsent(key: string): Promise<boolean> {
    return this.readOnly('createIfAbsent', key);
  }

  delete(key: string): Promise<void> {
    return this.readOnly('delete', key);
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.readOnly('list', prefix);
  }

  listDir(prefix: string): Promise<{ files: ObjectInfo[]; dirs: string[] }> {
    return this.readOnly('listDir', prefix);
  }
}

/** The bytes in a buffer of their own, so it can be transferred without taking anything else along. */
function own(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
}

const port = parentPort;
if (port !== null) {
  port.on('message', (req: CompactionRequest) => {
    compactSlice(new SliceFiles(req.files), req.input).then(
      (result) => {
        const output = { ...result, base: own(result.base), tombstones: result.tombstones === null ? null : own(result.tombstones) };
        const transfer = [output.base.buffer as ArrayBuffer, ...(output.tombstones === null ? [] : [output.tombstones.buffer as ArrayBuffer])];
        const reply: CompactionReply = { id: req.id, output };
        port.postMessage(reply, transfer);
      },
      (e: unknown) => {
        const reply: CompactionReply = { id: req.id, error: { name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) } };
        port.postMessage(reply);
      },
    );
  });
}
