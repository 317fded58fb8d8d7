import { parseBaseFileName, parseLogFileName, compareLogFiles, type LogFileName } from '../hudi/file-name.js';
import type { ObjectStore } from '../storage/object-store.js';
import { TIMELINE_DIR, joinPath, type Committed } from './timeline.js';

/**
 * The file-system view: every base and log file under the table, grouped into
 * file groups and file slices (table v6: a slice is a base file plus the log
 * files named after its instant). Built from one recursive listing; which
 * slices a reader may use is decided against the timeline by `selectSlices`.
 */

export interface BaseFile {
  path: string;
  name: string;
  fileId: string;
  instant: string;
  size: number;
}

export interface LogFile extends LogFileName {
  path: string;
  name: string;
  size: number;
}

export interface FileSlice {
  partition: string;
  fileId: string;
  baseInstant: string;
  base?: BaseFile;
  logs: LogFile[];
}

export interface FileGroup {
  partition: string;
  fileId: string;
  /** Oldest first. */
  slices: FileSlice[];
}

export function groupKey(partition: string, fileId: string): string {
  return `${partition}\u0000${fileId}`;
}

export class FileSystemView {
  constructor(readonly groups: Map<string, FileGroup>) {}

  static async load(store: ObjectStore, base: string): Promise<FileSystemView> {
    const prefix = base === '' ? '' : `${base}/`;
    const objects = await store.list(prefix, { except: `${prefix}${TIMELINE_DIR}/` });
    const view = new FileSystemView(new Map());
    for (const o of objects) {
      const rel = o.key.slice(prefix.length);
      if (rel.startsWith(`${TIMELINE_DIR}/`) || rel.startsWith('.cdc-lake-tmp/')) continue;
      const slash = rel.lastIndexOf('/');
      const partition = slash < 0 ? '' : rel.slice(0, slash);
      const name = rel.slice(slash + 1);
      view.addFile(partition, name, o.key, o.size);
    }
    return view;
  }

  addFile(partition: string, name: string, path: string, size: number): void {
    const b = parseBaseFileName(name);
    if (b !== undefined) {
      this.slice(partition, b.fileId, b.instant).base = { path, name, fileId: b.fileId, instant: b.instant, size };
      return;
    }
    const l = parseLogFileName(name);
    if (l !== undefined && !l.cdc) {
      const slice = this.slice(partition, l.fileId, l.baseInstant);
      slice.logs.push({ ...l, path, name, size });
      slice.logs.sort(compareLogFiles);
    }
  }

  removeFile(partition: string, name: string): void {
    const b = parseBaseFileName(name);
    const l = parseLogFileName(name);
    const fileId = b?.fileId ?? l?.fileId;
    if (fileId === undefined) return;
    const group = this.groups.get(groupKey(partition, fileId));
    if (group === undefined) return;
    for (const s of group.slices) {
      if (s.base?.name === name) delete s.base;
      s.logs = s.logs.filter((x) => x.name !== name);
    }
    group.slices = group.slices.filter((s) => s.base !== undefined || s.logs.length > 0);
    if (group.slices.length === 0) this.groups.delete(groupKey(partition, fileId));
  }

  private slice(partition: string, fileId: string, baseInstant: string): FileSlice {
    const k = groupKey(partition, fileId);
    let g = this.groups.get(k);
    if (g === undefined) {
      g = { partition, fileId, slices: [] };
      this.groups.set(k, g);
    }
    let s = g.slices.find((x) => x.baseInstant === baseInstant);
    if (s === undefined) {
      s = { partition, fileId, baseInstant, logs: [] };
      g.slices.push(s);
      g.slices.sort((a, b) => (a.baseInstant < b.baseInstant ? -1 : a.baseInstant > b.baseInstant ? 1 : 0));
    }
    return s;
  }

  partitions(): string[] {
    return [...new Set([...this.groups.values()].map((g) => g.partition))].sort();
  }
}

export interface SliceSelection {
  /** Only slices visible at this instant (inclusive). */
  asOf: string;
  /** Instants whose files are committed data (`Timeline.committed`). */
  completed: Committed;
  /** File groups replaced by a completed replacecommit at or before `asOf`. */
  replaced: ReadonlySet<string>;
}

/**
 * The slice of each live file group that a reader at `asOf` uses: the newest slice
 * whose base file was written by a completed instant at or before `asOf`. Base files
 * of pending or failed instants are never used (Java's rule; we apply it to our reader
 * too), and the logs filed under such a base (a pending compaction) belong to the slice
 * chosen. Groups without any usable base file are skipped, as hudi-rs skips them.
 */
export function selectSlices(view: FileSystemView, sel: SliceSelection): FileSlice[] {
  const out: FileSlice[] = [];
  for (const g of view.groups.values()) {
    if (sel.replaced.has(groupKey(g.partition, g.fileId))) continue;
    const visible = g.slices.filter((s) => s.baseInstant <= sel.asOf);
    let at = -1;
    visible.forEach((s, i) => {
      if (s.base !== undefined && sel.completed.has(s.base.instant)) at = i;
    });
    const chosen = visible[at];
    if (chosen === undefined) continue;
    const later = visible.slice(at + 1).flatMap((s) => s.logs);
    out.push(later.length === 0 ? chosen : { ...chosen, logs: [...chosen.logs, ...later] });
  }
  return out.sort((a, b) => (a.partition + a.fileId < b.partition + b.fileId ? -1 : 1));
}
