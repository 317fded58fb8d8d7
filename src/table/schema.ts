/**
 * The table schema: an Avro record schema, as Hudi stores it in commit metadata
 * (`extraMetadata.schema`) and in log block headers. Every data field is nullable
 * (`["null", T]`, default null), as Spark-Hudi writes them.
 *
 * Row values in memory follow one contract shared by the decoder, the writer and
 * the reader (see `Value`), so no stage re-interprets another's output.
 */

export type AvroPrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

export type AvroLogical =
  | { type: 'int'; logicalType: 'date' }
  | { type: 'int'; logicalType: 'time-millis' }
  | { type: 'long'; logicalType: 'time-micros' }
  | { type: 'long'; logicalType: 'timestamp-millis' }
  | { type: 'long'; logicalType: 'timestamp-micros' }
  | { type: 'bytes'; logicalType: 'decimal'; precision: number; scale: number }
  | { type: 'string'; logicalType: 'uuid' };

export interface AvroArray {
  type: 'array';
  items: AvroType;
}

export interface AvroField {
  name: string;
  type: AvroType;
  default?: null;
  doc?: string;
}

export interface AvroRecord {
  type: 'record';
  name: string;
  namespace?: string;
  fields: AvroField[];
}

/** Extra annotations we keep on a type so the JSONL form can be restored exactly (e.g. `cdc.semantic`). */
export type AvroAnnotated = (AvroLogical | { type: AvroPrimitiveName }) & { 'cdc.semantic'?: string };

export type AvroType = AvroPrimitiveName | AvroLogical | AvroArray | AvroRecord | AvroAnnotated | AvroType[];

export type TableSchema = AvroRecord;

/**
 * In-memory value of one column:
 * - null: SQL NULL
 * - boolean, number: boolean / int / float / double / date (days) / time-millis
 * - number | bigint: long, time-micros, timestamp-millis/-micros (bigint when beyond 2^53)
 * - string: string, uuid, decimal (exact, with its scale: "19.90")
 * - Uint8Array: bytes
 * - Value[]: arrays
 */
export type Value = null | boolean | number | bigint | string | Uint8Array | Value[] | { [k: string]: Value };

export type Row = Record<string, Value>;

/** The Hudi ordering (precombine) field of a table ordered by source position (the default): one long derived from it. */
export const ORDERING_FIELD = '_cdc_position';

export function nullable(type: AvroType): AvroType {
  if (Array.isArray(type)) return type[0] === 'null' ? type : ['null', ...type.filter((t) => t !== 'null')];
  return ['null', type];
}

/** The non-null branch of a nullable union (our schemas have at most one). */
export function nonNull(type: AvroType): AvroType {
  if (!Array.isArray(type)) return type;
  const rest = type.filter((t) => t !== 'null');
  if (rest.length !== 1) throw new Error(`unsupported union ${JSON.stringify(type)}: only ["null", T] is allowed`);
  return rest[0] as AvroType;
}
