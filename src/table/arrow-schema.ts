/**
 * Avro table schema → Arrow schema, chosen so that arrow-rs (parquet-wasm) writes the Parquet
 * types parquet-avro would write for the same Avro schema (see docs/table-format.md):
 * string → Utf8 (BYTE_ARRAY UTF8), int → Int32, long → Int64, date → Date32 (INT32 DATE),
 * time-millis → Time32(ms), time-micros → Time64(us), timestamp-* → Timestamp(unit, "UTC")
 * (INT64 TIMESTAMP isAdjustedToUTC=true), decimal → Decimal128(p, s), bytes → Binary,
 * array → List<element>, record → Struct. Every column nullable (OPTIONAL).
 */
import {
  Binary,
  Bool,
  DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Schema,
  Struct,
  TimeMicrosecond,
  TimeMillisecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  Utf8,
} from 'apache-arrow';
import { nonNull, type AvroType, type TableSchema } from './schema.js';

/** A table schema we cannot map to Parquet; names the field and says what is supported. */
export class UnsupportedColumnType extends Error {
  constructor(
    readonly field: string,
    readonly avroType: unknown,
  ) {
    super(
      `column ${field}: Avro type ${JSON.stringify(avroType)} is not supported in Parquet files; ` +
        'use a primitive, a logical type from the cdc-lake type contract, ["null", T], an array or a record',
    );
    this.name = 'UnsupportedColumnType';
  }
}

/** The Avro type of a column, reduced to what decides its Arrow type and its in-memory Value. */
export type ColumnKind =
  | { kind: 'string' }
  | { kind: 'int' }
  | { kind: 'long'; semantic?: string }
  | { kind: 'float' }
  | { kind: 'double' }
  | { kind: 'boolean' }
  | { kind: 'bytes' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'time-millis' }
  | { kind: 'time-micros' }
  | { kind: 'timestamp-millis' }
  | { kind: 'timestamp-micros' }
  | { kind: 'array'; items: ColumnKind }
  | { kind: 'record'; fields: { name: string; type: ColumnKind }[] }
  | { kind: 'null' };

/** Highest decimal precision we write (Arrow Decimal128 / Spark / Hive limit). */
export const MAX_DECIMAL_PRECISION = 38;

export function columnKind(field: string, type: AvroType): ColumnKind {
  const t = nonNull(type);
  if (typeof t === 'string') {
    switch (t) {
      case 'string':
        return { kind: 'string' };
      case 'int':
        return { kind: 'int' };
      case 'long':
        return { kind: 'long' };
      case 'float':
        return { kind: 'float' };
      case 'double':
        return { kind: 'double' };
      case 'boolean':
        return { kind: 'boolean' };
      case 'bytes':
        return { kind: 'bytes' };
      case 'null':
        return { kind: 'null' };
      default:
        throw new UnsupportedColumnType(field, type);
    }
  }
  if (Array.isArray(t)) throw new UnsupportedColumnType(field, type);
  if (t.type === 'array') return { kind: 'array', items: columnKind(`${field}[]`, t.items) };
  if (t.type === 'record') {
    return { kind: 'record', fields: t.fields.map((f) => ({ name: f.name, type: columnKind(`${field}.${f.name}`, f.type) })) };
  }
  const logical = 'logicalType' in t ? t.logicalType : undefined;
  const semantic = (t as { 'cdc.semantic'?: string })['cdc.semantic'];
  switch (`${t.type}/${logical ?? ''}`) {
    case 'int/date':
      return { kind: 'date' };
    case 'int/time-millis':
      return { kind: 'time-millis' };
    case 'long/time-micros':
      return { kind: 'time-micros' };
    case 'long/timestamp-millis':
      return { kind: 'timestamp-millis' };
    case 'long/timestamp-micros':
      return { kind: 'timestamp-micros' };
    case 'bytes/decimal':
    case 'fixed/decimal': {
      const d = t as { precision?: number; scale?: number };
      const precision = d.precision ?? MAX_DECIMAL_PRECISION;
      const scale = d.scale ?? 0;
      if (!(precision >= 1 && precision <= MAX_DECIMAL_PRECISION && scale >= 0 && scale <= precision)) throw new UnsupportedColumnType(field, type);
      return { kind: 'decimal', precision, scale };
    }
    case 'long/':
      return semantic === undefined ? { kind: 'long' } : { kind: 'long', semantic };
    default:
      // Unknown logical types fall back to their physical type, as the Avro spec says readers must.
      return columnKind(field, t.type as AvroType);
  }
}

export function arrowType(kind: ColumnKind): DataType {
  switch (kind.kind) {
    case 'string':
      return new Utf8();
    case 'int':
      return new Int32();
    case 'long':
      return new Int64();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'boolean':
      return new Bool();
    case 'bytes':
      return new Binary();
    case 'decimal':
      return new Decimal(kind.scale, kind.precision, 128);
    case 'date':
      return new DateDay();
    case 'time-millis':
      return new TimeMillisecond();
    case 'time-micros':
      return new TimeMicrosecond();
    case 'timestamp-millis':
      return new TimestampMillisecond('UTC');
    case 'timestamp-micros':
      return new TimestampMicrosecond('UTC');
    case 'array':
      // "element" is the Parquet LIST spec's child name (parquet-avro and Spark use it too).
      return new List(new Field('element', arrowType(kind.items), true));
    case 'record':
      return new Struct(kind.fields.map((f) => new Field(f.name, arrowType(f.type), true)));
    case 'null':
      throw new Error('a column of Avro type "null" has no Arrow type');
  }
}

export function tableColumnKinds(schema: TableSchema): { name: string; kind: ColumnKind }[] {
  return schema.fields.map((f) => ({ name: f.name, kind: columnKind(f.name, f.type) }));
}

export function arrowSchema(schema: TableSchema): Schema {
  return new Schema(tableColumnKinds(schema).map(({ name, kind }) => new Field(name, arrowType(kind), true)));
}
