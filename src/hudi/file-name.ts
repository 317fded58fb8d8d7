/** Names of base and log files (table v6) and the order of log files in a file slice. */
import { randomUUID } from 'node:crypto';

/** A new file group id: uuid + `-0` like Java; never contains `_` (readers split on it). */
export function newFileId(): string {
  return `${randomUUID()}-0`;
}

export interface WriteTokenParts {
  partitionId: number;
  stageId: number;
  attemptId: number;
}

/** `<taskPartitionId>-<stageId>-<attemptId>`; Java's "unknown" token is `1-0-1`. */
export function writeToken(p: WriteTokenParts): string {
  for (const n of [p.partitionId, p.stageId, p.attemptId]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new FileNameError(`write token part ${n} must be a non-negative integer`);
  }
  return `${p.partitionId}-${p.stageId}-${p.attemptId}`;
}

export const UNKNOWN_WRITE_TOKEN = '1-0-1';

export class FileNameError extends Error {
  override readonly name = 'FileNameError';
}

export interface BaseFileName {
  fileId: string;
  writeToken: string;
  /** Instant that wrote the base file. */
  instant: string;
}

export interface LogFileName {
  fileId: string;
  /** Instant of the slice's base file (v6). */
  baseInstant: string;
  /** 1, 2, … per file slice. */
  version: number;
  writeToken: string;
  /** `.cdc` log files (not written by cdc-lake). */
  cdc?: boolean;
}

const FILE_ID = /^[A-Za-z0-9-]+$/;
const TOKEN = /^\d+-\d+-\d+$/;
const INSTANT = /^(\d{17}|\d{14})$/;

function check(cond: boolean, what: string): void {
  if (!cond) throw new FileNameError(what);
}

export function baseFileName(b: BaseFileName): string {
  check(FILE_ID.test(b.fileId), `file id "${b.fileId}" must be letters, digits and dashes (no "_")`);
  check(TOKEN.test(b.writeToken), `write token "${b.writeToken}" must look like 0-0-0`);
  check(INSTANT.test(b.instant), `instant "${b.instant}" must be 17 digits`);
  return `${b.fileId}_${b.writeToken}_${b.instant}.parquet`;
}

export function logFileName(l: LogFileName): string {
  check(FILE_ID.test(l.fileId), `file id "${l.fileId}" must be letters, digits and dashes (no "_")`);
  check(TOKEN.test(l.writeToken), `write token "${l.writeToken}" must look like 0-0-0`);
  check(INSTANT.test(l.baseInstant), `base instant "${l.baseInstant}" must be 17 digits`);
  check(Number.isSafeInteger(l.version) && l.version >= 1, `log version ${l.version} must be an integer >= 1`);
  return `.${l.fileId}_${l.baseInstant}.log.${l.version}_${l.writeToken}${l.cdc ? '.cdc' : ''}`;
}

const BASE_RE = /^([A-Za-z0-9-]+)_(\d+-\d+-\d+)_(\d{17}|\d{14})\.parquet$/;
const LOG_RE = /^\.([A-Za-z0-9-]+)_(\d{17}|\d{14})\.log\.(\d+)_(\d+-\d+-\d+)(\.cdc)?$/;

/** Parses `<fileId>_<token>_<instant>.parquet` (a bare name, no folder); undefined otherwise. */
export function parseBaseFileName(name: string): BaseFileName | undefined {
  const m = BASE_RE.exec(name);
  if (!m) return undefined;
  return { fileId: m[1] as string, writeToken: m[2] as string, instant: m[3] as string };
}

/** Parses `.<fileId>_<baseInstant>.log.<version>_<token>[.cdc]`; undefined otherwise. */
export function parseLogFileName(name: string): LogFileName | undefined {
  const m = LOG_RE.exec(name);
  if (!m) return undefined;
  const version = Number(m[3]);
  if (!Number.isSafeInteger(version) || version < 1) return undefined;
  const out: LogFileName = { fileId: m[1] as string, baseInstant: m[2] as string, version, writeToken: m[4] as string };
  if (m[5]) out.cdc = true;
  return out;
}

function compareTokens(a: string, b: string): number {
  const pa = a.split('-').map(Number);
  const pb = b.split('-').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Order of log files in a slice: base instant, then version, then write token (numerically). */
export function compareLogFiles(a: LogFileName, b: LogFileName): number {
  if (a.baseInstant !== b.baseInstant) return a.baseInstant < b.baseInstant ? -1 : 1;
  if (a.version !== b.version) return a.version - b.version;
  return compareTokens(a.writeToken, b.writeToken);
}
