import type { MetaField } from './meta-fields.js';
import { writeParquet } from './parquet.js';
import { compareKeys, inKeyOrder } from './record-key.js';
import type { Row, TableSchema, Value } from './schema.js';

export type MetaColumns = { readonly [F in MetaField]: readonly string[] };
/** Side columns of a base file or data block: the meta fields plus others by name (the ordering). */
export type WriteColumns = MetaColumns & Readonly<Record<string, readonly Value[]>>;

/** A side column without one value per row: written, its values would belong to other rows. */
export class BaseFileColumnError extends Error {
  constructor(
    readonly file: string,
    readonly column: string,
    readonly values: number,
    readonly rows: number,
  ) {
    super(`base file ${file}: side column ${column} has ${values} values for ${rows} rows; every side column needs one value per row`);
    this.name = 'BaseFileColumnError';
  }
}

/**
 * The one Parquet base-file writer path (writer, rewrite and compaction). `columns` supplies
 * fields (the `_hoodie_*` meta fields, the ordering) by name as arrays instead of row
 * properties. Rows are written in record-key order (JS string order, as the snapshot reader
 * sorts): merged slices then come out as sorted runs, which the reader's sort merges in
 * near-linear time; Hudi readers ignore row order. The caller's arrays are not changed. The
 * footer carries what Hudi readers look for: the Avro schema and the min/max record key.
 */
export function writeBaseFile(schema: TableSchema, rows: readonly Row[], columns?: WriteColumns): Uint8Array {
  if (columns) checkColumnLengths(columns, rows.length);
  const keys = columns?._hoodie_record_key ?? rows.map((r) => String(r._hoodie_record_key));
  const order = keyOrder(keys);
  const sortedRows = order ? permuted(rows, order) : rows;
  const sortedColumns = order && columns ? permutedColumns(columns, order) : columns;
  const min = order ? keys[order[0] as number] : keys[0];
  const max = order ? keys[order[order.length - 1] as number] : keys[keys.length - 1];
  return writeParquet(schema, sortedRows, {
    metaColumns: true,
    ...(sortedColumns ? { columns: sortedColumns } : {}),
    keyValueMetadata: {
      'parquet.avro.schema': JSON.stringify(schema),
      'writer.model.name': 'avro',
      ...(min !== undefined && max !== undefined ? { hoodie_min_record_key: min, hoodie_max_record_key: max } : {}),
    },
  });
}

function checkColumnLengths(columns: WriteColumns, rows: number): void {
  for (const [name, values] of Object.entries(columns)) {
    if (values.length !== rows) throw new BaseFileColumnError(String(columns._hoodie_file_name[0] ?? '(unnamed)'), name, values.length, rows);
  }
}

/**
 * Row indices in key order, or undefined when the keys are already in order (a linear check:
 * the common case when compacting a sorted base file with few new keys). Array#sort is a
 * stable TimSort, so equal keys keep their order and presorted runs merge cheaply.
 */
function keyOrder(keys: readonly string[]): number[] | undefined {
  if (inKeyOrder(keys)) return undefined;
  const order = Array.from({ length: keys.length }, (_x, i) => i);
  return order.sort((a, b) => compareKeys(keys[a] as string, keys[b] as string));
}

function permuted<T>(values: readonly T[], order: readonly number[]): T[] {
  const out = new Array<T>(order.length);
  for (let i = 0; i < order.length; i++) out[i] = values[order[i] as number] as T;
  return out;
}

function permutedColumns(columns: WriteColumns, order: readonly number[]): WriteColumns {
  const out: Record<string, readonly Value[]> = {};
  for (const [name, values] of Object.entries(columns)) out[name] = permuted(values, order);
  // Same names as `columns`, each permuted alike: the meta fields stay string arrays.
  return out as WriteColumns;
}
