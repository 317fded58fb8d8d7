import type { MetaField } from './meta-fields.js';
import { writeParquet } from './parquet.js';
import type { Row, TableSchema, Value } from './schema.js';

export type MetaColumns = { readonly [F in MetaField]: readonly string[] };
/** Side columns of a base file or data block: the meta fields plus others by name (the ordering). */
export type WriteColumns = MetaColumns & Readonly<Record<string, readonly Value[]>>;

/**
 * The one Parquet base-file writer path (writer, rewrite and compaction). `columns` supplies
 * fields (the `_hoodie_*` meta fields, the ordering) by name as arrays instead of row
 * properties. The footer carries what Hudi readers look for: the Avro schema and the
 * min/max record key.
 */
export function writeBaseFile(schema: TableSchema, rows: readonly Row[], columns?: WriteColumns): Uint8Array {
  const keys = columns?._hoodie_record_key ?? rows.map((r) => String(r._hoodie_record_key));
  let min: string | undefined;
  let max: string | undefined;
  for (const k of keys) {
    if (min === undefined || k < min) min = k;
    if (max === undefined || k > max) max = k;
  }
  return writeParquet(schema, rows, {
    metaColumns: true,
    ...(columns ? { columns } : {}),
    keyValueMetadata: {
      'parquet.avro.schema': JSON.stringify(schema),
      'writer.model.name': 'avro',
      ...(min !== undefined && max !== undefined ? { hoodie_min_record_key: min, hoodie_max_record_key: max } : {}),
    },
  });
}
