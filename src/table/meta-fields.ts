import type { AvroField, TableSchema } from './schema.js';

/** Hudi's five meta columns, in the order every base file and log record carries them. */
export const META_FIELDS = [
  '_hoodie_commit_time',
  '_hoodie_commit_seqno',
  '_hoodie_record_key',
  '_hoodie_partition_path',
  '_hoodie_file_name',
] as const;

export type MetaField = (typeof META_FIELDS)[number];

const META_SET: ReadonlySet<string> = new Set(META_FIELDS);

export function isMetaField(name: string): boolean {
  return META_SET.has(name);
}

/** The writer schema with the meta fields first (`["null","string"]`, as Spark-Hudi declares them). */
export function withMetaFields(schema: TableSchema): TableSchema {
  const meta: AvroField[] = META_FIELDS.map((name) => ({ name, type: ['null', 'string'], doc: '', default: null }));
  return { ...schema, fields: [...meta, ...schema.fields.filter((f) => !isMetaField(f.name))] };
}

export function withoutMetaFields(schema: TableSchema): TableSchema {
  return { ...schema, fields: schema.fields.filter((f) => !isMetaField(f.name)) };
}

/** `<instant>_<partition index>_<row index>`: the tie-breaker readers use among equal ordering values. */
export function commitSeqno(instant: string, partitionIndex: number, rowIndex: number): string {
  return `${instant}_${partitionIndex}_${rowIndex}`;
}
