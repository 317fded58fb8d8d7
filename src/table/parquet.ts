/**
 * Parquet files for base files and Parquet log blocks: rows (the shared Value contract) ⇄ Arrow
 * ⇄ Parquet bytes. The only module that knows the Parquet library (parquet-wasm, i.e. arrow-rs
 * compiled to wasm; chosen by measurement, see docs/dependencies.md).
 *
 * Arrow columns are built by hand from typed arrays (the apache-arrow builders are several times
 * slower), and read back from the raw buffers so int64, timestamps and decimals stay exact.
 */
import {
  Data,
  DataType,
  Field,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Type,
  tableFromIPC,
  tableToIPC,
  Vector,
} from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { arrowType, columnKind, tableColumnKinds, type ColumnKind } from './arrow-schema.js';
import type { AvroType, Row, TableSchema, Value } from './schema.js';

export { arrowSchema, UnsupportedColumnType, type ColumnKind } from './arrow-schema.js';

export type ParquetCompression = 'uncompressed' | 'snappy' | 'gzip' | 'zstd';

export interface WriteParquetOptions {
  /** The schema starts with the five `_hoodie_*` meta columns (a Hudi base file); checked. */
  metaColumns: boolean;
  /** Footer key-value metadata; `parquet.avro.schema` defaults to the schema's JSON. */
  keyValueMetadata?: Record<string, string>;
  /** Default 'snappy' (fast, read by every engine). */
  compression?: ParquetCompression;
  /** Columns to dictionary-encode; default: decided per column from a sample (off for mostly-unique columns). */
  dictionaryColumns?: string[];
  /** Max rows per row group (default 1Mi, arrow-rs's default). */
  rowGroupSize?: number;
  /** Values of some columns by name (index = row index), used instead of the rows' properties (no row copies). */
  columns?: Readonly<Record<string, readonly Value[]>>;
}

/** A row value that does not fit its column type; names the column and row and says what is expected. */
export class ParquetValueError extends Error {
  constructor(
    readonly column: string,
    readonly row: number,
    readonly value: unknown,
    expected: string,
  ) {
    const shown = typeof value === 'bigint' ? `${value}n` : typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
    super(`column ${column}, row ${row}: ${shown} is not a valid ${expected}; fix the value or the table schema`);
    this.name = 'ParquetValueError';
  }
}

/** A Parquet file we cannot read or write; names the file when the caller gave one. */
export class ParquetFileError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'ParquetFileError';
  }
}

const HOODIE_META = ['_hoodie_commit_time', '_hoodie_commit_seqno', '_hoodie_record_key', '_hoodie_partition_path', '_hoodie_file_name'];

const COMPRESSION: Record<ParquetCompression, pq.Compression> = {
  uncompressed: pq.Compression.UNCOMPRESSED,
  snappy: pq.Compression.SNAPPY,
  gzip: pq.Compression.GZIP,
  zstd: pq.Compression.ZSTD,
};

// ---------------------------------------------------------------------------------------------
// Rows → Arrow

type Cell = Value | undefined;

/** makeData's overloads are keyed by static type; ours is chosen at run time from the schema. */
function mk(props: { type: DataType; length: number; nullCount: number; nullBitmap: Uint8Array } & Record<string, unknown>): Data {
  return makeData(props as never) as unknown as Data;
}

function validity(values: readonly Cell[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap, nullCount };
}

function toInt64(v: Cell, col: string, row: number, what = 'long'): bigint {
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new ParquetValueError(col, row, v, `${what} (64-bit)`);
    return v;
  }
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return toInt64(BigInt(v), col, row, what);
  throw new ParquetValueError(col, row, v, what);
}

function toInt32(v: Cell, col: string, row: number, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return v;
  throw new ParquetValueError(col, row, v, what);
}

/** "−12.30" with scale 2 → −1230n. Rejects more fraction digits than the scale (no silent rounding). */
export function decimalToUnscaled(text: string, scale: number): bigint | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  if (frac.length > scale && !/^0*$/.test(frac.slice(scale))) return undefined;
  const digits = (m[2] || '0') + frac.slice(0, scale).padEnd(scale, '0');
  const n = BigInt(digits);
  return m[1] === '-' ? -n : n;
}

/**
 * Fast path of decimalToUnscaled for the common case: at most 15 significant digits, so the
 * unscaled value is an exact double. Undefined means "use the exact BigInt path".
 */
function smallDecimal(text: string, scale: number): number | undefined {
  const dot = text.indexOf('.');
  const intPart = dot < 0 ? text : text.slice(0, dot);
  const frac = dot < 0 ? '' : text.slice(dot + 1);
  if (frac.length > scale || intPart.length + scale > 16 || !/^-?\d+$/.test(intPart) || (frac !== '' && !/^\d+$/.test(frac))) return undefined;
  const n = Number(intPart + frac.padEnd(scale, '0'));
  return Number.isSafeInteger(n) ? (intPart.startsWith('-') && n === 0 ? 0 : n) : undefined;
}

/** −1230n with scale 2 → "-12.30". */
export function unscaledToDecimal(n: bigint, scale: number): string {
  const neg = n < 0n;
  let s = (neg ? -n : n).toString();
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  }
  return neg ? `-${s}` : s;
}

function stringBytes(strings: readonly (string | null | undefined)[]): { offsets: Int32Array; data: Uint8Array } {
  const n = strings.length;
  const offsets = new Int32Array(n + 1);
  // One join + one encode beats per-string encoding by ~2× (libbench); join writes null and
  // undefined as '' itself, so no mapped copy of the column. Offsets come from .length when
  // the text is ASCII (the common case), else from Buffer.byteLength per string.
  const joined = strings.join('');
  const data = Buffer.from(joined, 'utf8');
  const ascii = data.length === joined.length;
  let off = 0;
  for (let i = 0; i < n; i++) {
    const s = strings[i];
    if (typeof s === 'string') off += ascii ? s.length : Buffer.byteLength(s, 'utf8');
    offsets[i + 1] = off;
  }
  return { offsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

function buildData(kind: ColumnKind, values: readonly Cell[], col: string): Data {
  const type = arrowType(kind);
  const n = values.length;
  const { bitmap, nullCount } = validity(values);
  const base = { type, length: n, nullCount, nullBitmap: nullCount > 0 ? bitmap : new Uint8Array(0) };
  switch (kind.kind) {
    case 'string': {
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null && v !== undefined && typeof v !== 'string') throw new ParquetValueError(col, i, v, 'string');
      }
      const { offsets, data } = stringBytes(values as readonly (string | null | undefined)[]);
      return mk({ ...base, valueOffsets: offsets, data });
    }
    case 'bytes': {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        if (!(v instanceof Uint8Array)) throw new ParquetValueError(col, i, v, 'bytes (Uint8Array)');
        total += v.byteLength;
      }
      const offsets = new Int32Array(n + 1);
      const data = new Uint8Array(total);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v instanceof Uint8Array) {
          data.set(v, off);
          off += v.byteLength;
        }
        offsets[i + 1] = off;
      }
      return mk({ ...base, valueOffsets: offsets, data });
    }
    case 'int':
    case 'date':
    case 'time-millis': {
      const data = new Int32Array(n);
      const what = kind.kind === 'int' ? 'int (32-bit)' : kind.kind === 'date' ? 'date (days since 1970-01-01)' : 'time-millis (ms of day)';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = toInt32(v, col, i, what);
      }
      return mk({ ...base, data });
    }
    case 'long':
    case 'time-micros':
    case 'timestamp-millis':
    case 'timestamp-micros': {
      const data = new BigInt64Array(n);
      // Safe-integer numbers (the common case) are split into two 32-bit halves without
      // allocating a BigInt each; the platform is little-endian (x64/arm64), as Arrow assumes.
      const halves = new Int32Array(data.buffer);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        if (typeof v === 'number' && Number.isSafeInteger(v)) {
          halves[2 * i] = v | 0; // low 32 bits (ToInt32 is modulo 2^32, also for negatives)
          halves[2 * i + 1] = Math.floor(v / 4294967296);
        } else data[i] = toInt64(v, col, i, kind.kind);
      }
      return mk({ ...base, data });
    }
    case 'float':
    case 'double': {
      const data = kind.kind === 'float' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        if (typeof v !== 'number') throw new ParquetValueError(col, i, v, kind.kind);
        data[i] = v;
      }
      return mk({ ...base, data });
    }
    case 'boolean': {
      const data = new Uint8Array((n + 7) >> 3);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        if (typeof v !== 'boolean') throw new ParquetValueError(col, i, v, 'boolean');
        if (v) data[i >> 3]! |= 1 << (i & 7);
      }
      return mk({ ...base, data });
    }
    case 'decimal': {
      // Decimal128: 16-byte little-endian two's complement per value, as 4 uint32 words.
      const words = new Uint32Array(n * 4);
      const limit = 10n ** BigInt(kind.precision);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        if (typeof v === 'string') {
          const fast = smallDecimal(v, kind.scale);
          if (fast !== undefined && Math.abs(fast) < Number(limit)) {
            words[i * 4] = fast | 0;
            const hi = Math.floor(fast / 4294967296);
            words[i * 4 + 1] = hi;
            if (fast < 0) words[i * 4 + 2] = words[i * 4 + 3] = 0xffffffff;
            continue;
          }
        }
        const what = `decimal(${kind.precision},${kind.scale}) string such as "${unscaledToDecimal(1234n, Math.min(kind.scale, 4))}"`;
        const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? v.toFixed(kind.scale) : typeof v === 'bigint' ? v.toString() : undefined;
        const unscaled = text === undefined ? undefined : decimalToUnscaled(text, kind.scale);
        if (unscaled === undefined || unscaled >= limit || unscaled <= -limit) throw new ParquetValueError(col, i, v, what);
        let u = BigInt.asUintN(128, unscaled);
        for (let w = 0; w < 4; w++) {
          words[i * 4 + w] = Number(u & 0xffffffffn);
          u >>= 32n;
        }
      }
      return mk({ ...base, data: words });
    }
    case 'array': {
      const offsets = new Int32Array(n + 1);
      const items: Cell[] = [];
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) {
          if (!Array.isArray(v)) throw new ParquetValueError(col, i, v, 'array');
          for (const item of v) items.push(item);
        }
        offsets[i + 1] = items.length;
      }
      const child = buildData(kind.items, items, `${col}[]`);
      return mk({ ...base, valueOffsets: offsets, child });
    }
    case 'record': {
      const children = kind.fields.map((f) =>
        buildData(
          f.type,
          values.map((v, i) => {
            if (v === null || v === undefined) return null;
            if (typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) throw new ParquetValueError(col, i, v, 'record (object)');
            return (v as { [k: string]: Value })[f.name] ?? null;
          }),
          `${col}.${f.name}`,
        ),
      );
      return mk({ ...base, children });
    }
    case 'null':
      throw new ParquetValueError(col, 0, null, 'non-null column type');
  }
}

/** Rows → an Arrow table with one column per schema field, in schema order. */
export function rowsToArrow(schema: TableSchema, rows: readonly Row[], columns: Readonly<Record<string, readonly Cell[]>> = {}): Table {
  const kinds = tableColumnKinds(schema);
  const all = withRowColumns(rows, kinds.map((k) => k.name), columns);
  const children = kinds.map(({ name, kind }) => buildData(kind, all[name] as readonly Cell[], name));
  const fields = kinds.map(({ name, kind }) => new Field(name, arrowType(kind), true));
  const arrowSchema = new Schema(fields);
  const struct = makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children });
  return new Table(arrowSchema, [new RecordBatch(arrowSchema, struct)]);
}

/** `columns` with the named columns it lacks gathered from the rows' properties (own ones only: a column named `constructor` is not Object's). */
function withRowColumns(rows: readonly Row[], names: readonly string[], columns: Readonly<Record<string, readonly Cell[]>>): Record<string, readonly Cell[]> {
  const missing = names.filter((n) => !Object.hasOwn(columns, n));
  const gathered = columnsOf(rows, missing);
  const out: Record<string, readonly Cell[]> = { ...columns };
  missing.forEach((name, k) => {
    out[name] = gathered[k] as Cell[];
  });
  return out;
}

type Transpose = (rows: readonly Row[], out: Cell[][]) => void;

/** Transposers by their JSON name list; a few per table schema, so the cap only guards a long run of schema changes. */
const transposers = new Map<string, Transpose>();
const MAX_TRANSPOSERS = 64;

/**
 * The rows' named properties as one array per name, in one pass over the rows. The loop is
 * generated per name list so each property is read by a constant name: rows have one or two
 * hidden classes (file reads, log decodes), so those are fast monomorphic/polymorphic loads,
 * where `row[name]` with a varying name is a megamorphic keyed load — ~3× slower and a top
 * CPU entry of compaction's base-file write in profiles.
 */
function columnsOf(rows: readonly Row[], names: readonly string[]): Cell[][] {
  const out = names.map(() => new Array<Cell>(rows.length));
  if (names.length === 0) return out;
  const id = JSON.stringify(names);
  let transpose = transposers.get(id);
  if (transpose === undefined) {
    if (transposers.size >= MAX_TRANSPOSERS) transposers.clear();
    transpose = transposer(names);
    transposers.set(id, transpose);
  }
  transpose(rows, out);
  return out;
}

/** Names enter the generated code as JSON string literals only, never as code. */
function transposer(names: readonly string[]): Transpose {
  const columns = names.map((_n, k) => `const c${k} = out[${k}];`).join(' ');
  const reads = names.map((n, k) => `c${k}[i] = r[${JSON.stringify(n)}];`).join(' ');
  return new Function('rows', 'out', `${columns} for (let i = 0; i < rows.length; i++) { const r = rows[i]; ${reads} }`) as Transpose;
}

// ---------------------------------------------------------------------------------------------
// Parquet write / read

/** Decides dictionary encoding from up to 1024 sampled values: off when most are distinct. */
function wantsDictionary(values: readonly Cell[]): boolean {
  const n = Math.min(values.length, 1024);
  if (n < 16) return true;
  const seen = new Set<unknown>();
  const step = values.length / n;
  for (let i = 0; i < n; i++) {
    const v = values[Math.floor(i * step)];
    seen.add(v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : typeof v === 'object' && v !== null ? JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x)) : v);
  }
  return seen.size <= n / 2;
}

export function writeParquet(schema: TableSchema, rows: readonly Row[], opts: WriteParquetOptions): Uint8Array {
  if (opts.metaColumns) {
    const first = schema.fields.slice(0, HOODIE_META.length).map((f) => f.name);
    if (first.join() !== HOODIE_META.join()) {
      throw new ParquetFileError(`schema ${schema.name}: a Hudi base file needs the columns ${HOODIE_META.join(', ')} first, got ${first.join(', ')}; add them with withMetaFields()`);
    }
  }
  // Each column is gathered once and shared by the dictionary decision and the Arrow build.
  const columns = withRowColumns(rows, schema.fields.map((f) => f.name), opts.columns ?? {});
  const table = rowsToArrow(schema, rows, columns);
  const kv = new Map<string, string>(Object.entries({ 'parquet.avro.schema': JSON.stringify(schema), ...opts.keyValueMetadata }));
  let props = new pq.WriterPropertiesBuilder()
    .setCompression(COMPRESSION[opts.compression ?? 'snappy'])
    .setKeyValueMetadata(kv)
    .setMaxRowGroupSize(opts.rowGroupSize ?? 1024 * 1024);
  const dictionary = opts.dictionaryColumns ? new Set(opts.dictionaryColumns) : undefined;
  for (const f of schema.fields) {
    // Nested columns keep the default: arrow-rs addresses them by leaf path, not by field name.
    const kind = columnKind(f.name, f.type).kind;
    if (kind === 'array' || kind === 'record') continue;
    const on = dictionary ? dictionary.has(f.name) : wantsDictionary(columns[f.name] as readonly Cell[]);
    if (!on) props = props.setColumnDictionaryEnabled(f.name, false);
  }
  const wasmTable = pq.Table.fromIPCStream(tableToIPC(table, 'stream'));
  try {
    return pq.writeParquet(wasmTable, props.build());
  } catch (e) {
    throw new ParquetFileError(`writing a Parquet file for ${schema.name} failed: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

export interface ReadParquetOptions {
  /** Columns to return (others are skipped after decoding; use readParquetColumns to skip the decoding too). */
  columns?: string[];
  /** Names the file in error messages. */
  fileName?: string;
}

function describe(opts: ReadParquetOptions | undefined): string {
  return opts?.fileName ? `Parquet file ${opts.fileName}` : 'Parquet data';
}

function project(table: Table, columns: string[] | undefined): Table {
  if (!columns) return table;
  const present = new Set(table.schema.fields.map((f) => f.name));
  return table.select(columns.filter((c) => present.has(c)));
}

/** Parquet bytes → Arrow table (synchronous; parquet-wasm's sync reader decodes every column). */
export function readParquet(bytes: Uint8Array, opts?: ReadParquetOptions): Table {
  let ipc: Uint8Array;
  try {
    ipc = pq.readParquet(bytes).intoIPCStream();
  } catch (e) {
    throw new ParquetFileError(`reading ${describe(opts)} failed: ${e instanceof Error ? e.message : String(e)}; is it a complete Parquet file?`, e);
  }
  return project(tableFromIPC(ipc), opts?.columns);
}

/** Like readParquet, but decodes only the requested columns (parquet-wasm's async reader projects). */
export async function readParquetColumns(bytes: Uint8Array, opts: ReadParquetOptions = {}): Promise<Table> {
  let ipc: Uint8Array;
  try {
    const file = await pq.ParquetFile.fromFile(new Blob([bytes]));
    try {
      const present = new Set(Object.keys(parquetColumnNames(bytes)));
      const columns = opts.columns?.filter((c) => present.has(c));
      ipc = (await file.read(columns ? { columns, batchSize: 64 * 1024 } : { batchSize: 64 * 1024 })).intoIPCStream();
    } finally {
      file.free();
    }
  } catch (e) {
    throw new ParquetFileError(`reading ${describe(opts)} failed: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  return tableFromIPC(ipc);
}

function parquetColumnNames(bytes: Uint8Array): Record<string, true> {
  const schema = tableFromIPC(pq.readSchema(bytes).intoIPCStream()).schema;
  return Object.fromEntries(schema.fields.map((f) => [f.name, true as const]));
}

/** Footer metadata straight from the Parquet file (async: parquet-wasm exposes it on ParquetFile only). */
export async function readParquetMetadata(bytes: Uint8Array): Promise<{ keyValueMetadata: Record<string, string>; numRows: number; createdBy: string | undefined; numRowGroups: number }> {
  const file = await pq.ParquetFile.fromFile(new Blob([bytes]));
  try {
    const meta = file.metadata();
    const fm = meta.fileMetadata();
    const kv: Record<string, string> = {};
    for (const [k, v] of fm.keyValueMetadata() as Map<string, string>) kv[String(k)] = String(v);
    return { keyValueMetadata: kv, numRows: fm.numRows(), createdBy: fm.createdBy(), numRowGroups: meta.numRowGroups() };
  } finally {
    file.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Arrow → rows

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** int64 → number when exact, else bigint (the Value contract for long). */
export function longValue(v: bigint): number | bigint {
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v;
}

type CellReader = (i: number) => Value;

const UNIT_PER_SECOND: Record<number, bigint> = {
  [TimeUnit.SECOND]: 1n,
  [TimeUnit.MILLISECOND]: 1000n,
  [TimeUnit.MICROSECOND]: 1000000n,
  [TimeUnit.NANOSECOND]: 1000000000n,
};

function rescale(v: bigint, from: number, to: number): bigint {
  const f = UNIT_PER_SECOND[from] ?? 1n;
  const t = UNIT_PER_SECOND[to] ?? 1n;
  if (f === t) return v;
  if (t > f) return v * (t / f);
  // Floor division keeps pre-1970 instants on the right side of the boundary.
  const d = f / t;
  const q = v / d;
  return v % d !== 0n && v < 0n ? q - 1n : q;
}

/** Arrow unit the Avro kind expects, or undefined to keep the file's unit. */
function targetUnit(kind: ColumnKind | undefined): number | undefined {
  switch (kind?.kind) {
    case 'timestamp-millis':
    case 'time-millis':
      return TimeUnit.MILLISECOND;
    case 'timestamp-micros':
    case 'time-micros':
      return TimeUnit.MICROSECOND;
    case 'long':
      return kind.semantic === 'nano-timestamp' || kind.semantic === 'nano-time' ? TimeUnit.NANOSECOND : undefined;
    default:
      return undefined;
  }
}

function utf8Reader(values: Uint8Array, offsets: ArrayLike<number | bigint>): (i: number) => string {
  const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return (i) => buf.toString('utf8', Number(offsets[i]), Number(offsets[i + 1]));
}

function cellReader(data: Data, kind: ColumnKind | undefined): CellReader {
  const read = valueReader(data, kind);
  if (data.nullCount === 0) return read;
  return (i) => (data.getValid(i) ? read(i) : null);
}

function valueReader(data: Data, kind: ColumnKind | undefined): CellReader {
  const t: DataType = data.type;
  const values = data.values as unknown;
  switch (t.typeId) {
    case Type.Null:
      return () => null;
    case Type.Utf8:
    case Type.LargeUtf8: {
      const str = utf8Reader(values as Uint8Array, data.valueOffsets as ArrayLike<number | bigint>);
      return str;
    }
    case Type.Binary:
    case Type.LargeBinary: {
      const bytes = values as Uint8Array;
      const offs = data.valueOffsets as ArrayLike<number | bigint>;
      // Spark files may hold strings as BINARY without the UTF8 annotation.
      if (kind?.kind === 'string') return utf8Reader(bytes, offs);
      return (i) => bytes.slice(Number(offs[i]), Number(offs[i + 1]));
    }
    case Type.FixedSizeBinary: {
      const bytes = values as Uint8Array;
      const w = (t as unknown as { byteWidth: number }).byteWidth;
      return (i) => bytes.slice(i * w, (i + 1) * w);
    }
    case Type.Int: {
      const arr = values as Int32Array | BigInt64Array | Int8Array | Int16Array | Uint32Array | BigUint64Array;
      if (arr instanceof BigInt64Array || arr instanceof BigUint64Array) {
        // A nano-timestamp long is always bigint by contract; other longs are number when exact.
        if (kind?.kind === 'long' && kind.semantic === 'nano-timestamp') return (i) => BigInt.asIntN(64, arr[i]!);
        return (i) => longValue(arr[i]!);
      }
      return (i) => arr[i]!;
    }
    case Type.Float: {
      const arr = values as Float32Array | Float64Array | Uint16Array;
      if (arr instanceof Uint16Array) return (i) => new Vector([data]).get(i) as number; // Float16: rare, let Arrow decode
      return (i) => arr[i]!;
    }
    case Type.Bool: {
      const bits = values as Uint8Array;
      const off = data.offset;
      return (i) => ((bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 1;
    }
    case Type.Decimal: {
      const words = values as Uint32Array;
      const d = t as unknown as { scale: number; bitWidth: number };
      const stride = d.bitWidth / 32;
      const targetScale = kind?.kind === 'decimal' ? kind.scale : d.scale;
      return (i) => {
        let u = 0n;
        for (let w = stride - 1; w >= 0; w--) u = (u << 32n) | BigInt(words[i * stride + w]!);
        let n = BigInt.asIntN(d.bitWidth, u);
        let scale = d.scale;
        if (targetScale > scale) {
          n *= 10n ** BigInt(targetScale - scale);
          scale = targetScale;
        }
        return unscaledToDecimal(n, scale);
      };
    }
    case Type.Date: {
      const arr = values as Int32Array | BigInt64Array;
      if (arr instanceof Int32Array) return (i) => arr[i]!;
      return (i) => Number(arr[i]! / 86400000n) - (arr[i]! % 86400000n < 0n ? 1 : 0);
    }
    case Type.Time: {
      const arr = values as Int32Array | BigInt64Array;
      const unit = (t as unknown as { unit: number }).unit;
      const to = targetUnit(kind) ?? unit;
      return (i) => {
        const v = arr[i]!;
        return longValue(rescale(BigInt(v), unit, to));
      };
    }
    case Type.Timestamp: {
      const arr = values as BigInt64Array;
      const unit = (t as unknown as { unit: number }).unit;
      const to = targetUnit(kind) ?? unit;
      if (to === TimeUnit.NANOSECOND) return (i) => rescale(arr[i]!, unit, to);
      return (i) => longValue(rescale(arr[i]!, unit, to));
    }
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      const child = data.children[0]!;
      const itemKind = kind?.kind === 'array' ? kind.items : undefined;
      const item = cellReader(child, itemKind);
      if (t.typeId === Type.FixedSizeList) {
        const size = (t as unknown as { listSize: number }).listSize;
        return (i) => Array.from({ length: size }, (_, k) => item(i * size + k));
      }
      const offs = data.valueOffsets as ArrayLike<number | bigint>;
      return (i) => {
        const out: Value[] = [];
        for (let k = Number(offs[i]), end = Number(offs[i + 1]); k < end; k++) out.push(item(k));
        return out;
      };
    }
    case Type.Struct: {
      const fields = (t as Struct).children;
      const kinds = kind?.kind === 'record' ? new Map(kind.fields.map((f) => [f.name, f.type])) : undefined;
      const readers = fields.map((f, k) => [f.name, cellReader(data.children[k]!, kinds?.get(f.name))] as const);
      const missing = kind?.kind === 'record' ? kind.fields.filter((f) => !fields.some((x) => x.name === f.name)).map((f) => f.name) : [];
      return (i) => {
        const o: { [k: string]: Value } = {};
        for (const [name, r] of readers) o[name] = r(i);
        for (const name of missing) o[name] = null;
        return o;
      };
    }
    case Type.Map: {
      // Map<K, V> is stored as a list of {key, value} entries; Avro maps have string keys.
      const entries = data.children[0]!;
      const key = cellReader(entries.children[0]!, undefined);
      const value = cellReader(entries.children[1]!, undefined);
      const offs = data.valueOffsets as ArrayLike<number>;
      return (i) => {
        const o: { [k: string]: Value } = {};
        for (let k = offs[i]!, end = offs[i + 1]!; k < end; k++) o[String(key(k))] = value(k);
        return o;
      };
    }
    case Type.Dictionary: {
      const dict = (data.dictionary as Vector | undefined)?.data;
      if (!dict || dict.length !== 1) {
        const vec = data.dictionary as Vector;
        const idx = values as ArrayLike<number | bigint>;
        return (i) => vec.get(Number(idx[i])) as Value;
      }
      const inner = cellReader(dict[0]!, kind);
      const idx = values as ArrayLike<number | bigint>;
      return (i) => inner(Number(idx[i]));
    }
    default:
      throw new ParquetFileError(`Arrow type ${String(t)} is not supported by cdc-lake's reader`);
  }
}

/** One column's cells in row order, typed as `arrowToRows` types them; nulls for a column the file lacks. */
export function columnValues(table: Table, name: string, type?: AvroType): Value[] {
  const out = new Array<Value>(table.numRows).fill(null);
  const k = table.schema.fields.findIndex((f) => f.name === name);
  if (k < 0) return out;
  const kind = type === undefined ? undefined : columnKind(name, type);
  let at = 0;
  for (const batch of table.batches) {
    if (batch.numRows === 0) continue;
    const read = cellReader(batch.data.children[k] as Data, kind);
    for (let i = 0; i < batch.numRows; i++) out[at + i] = read(i);
    at += batch.numRows;
  }
  return out;
}

/**
 * One column's cells by row index, typed as `arrowToRows` types them (`type` is the field's Avro
 * type; undefined reads the file's own type). For the few rows a merge looks at: a lookup finds
 * the row's batch, so it costs no object per row of the file. Null for a column the file lacks.
 */
export function columnCells(table: Table, name: string, type?: AvroType): (row: number) => Value {
  const k = table.schema.fields.findIndex((f) => f.name === name);
  if (k < 0) return () => null;
  const kind = type === undefined ? undefined : columnKind(name, type);
  const batches = table.batches.filter((b) => b.numRows > 0);
  const starts = new Array<number>(batches.length);
  let n = 0;
  batches.forEach((b, i) => {
    starts[i] = n;
    n += b.numRows;
  });
  const readers = new Array<CellReader | undefined>(batches.length);
  return (row) => {
    let lo = 0;
    let hi = batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= row) lo = mid;
      else hi = mid - 1;
    }
    const read = (readers[lo] ??= cellReader((batches[lo] as (typeof batches)[number]).data.children[k] as Data, kind));
    return read(row - (starts[lo] as number));
  };
}

/**
 * Arrow table → rows following the Value contract. With a schema, rows carry exactly the
 * schema's fields in its order (absent columns read as null: schema evolution) and values are
 * restored to the schema's types; without one, every column of the table as stored. With
 * `only`, just the rows i with only[i] = 1 are built (the others are holes).
 */
export function arrowToRows(table: Table, schema?: TableSchema, only?: Uint8Array): Row[] {
  const columns: { name: string; kind: ColumnKind | undefined }[] = schema
    ? schema.fields.map((f) => ({ name: f.name, kind: columnKind(f.name, f.type) }))
    : table.schema.fields.map((f) => ({ name: f.name, kind: undefined }));
  const index = new Map(table.schema.fields.map((f, k) => [f.name, k]));
  const rows: Row[] = new Array<Row>(table.numRows);
  let base = 0;
  for (const batch of table.batches) {
    if (batch.numRows === 0) continue; // empty IPC batches may lack nested child buffers
    const readers = columns.map(({ name, kind }) => {
      const k = index.get(name);
      return k === undefined ? () => null : cellReader(batch.data.children[k]!, kind);
    });
    for (let i = 0; i < batch.numRows; i++) {
      if (only !== undefined && only[base + i] === 0) continue;
      const row: Row = {};
      for (let c = 0; c < columns.length; c++) row[columns[c]!.name] = readers[c]!(i);
      rows[base + i] = row;
    }
    base += batch.numRows;
  }
  return rows;
}
