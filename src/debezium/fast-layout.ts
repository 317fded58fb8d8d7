/**
 * The shape a JSON table's change values keep record after record: its columns (in the
 * tracked table schema's order), for each what JSON value the general decoder keeps as
 * it is and how the table writes it, and its one integer key column (a column of the
 * row, as the record key is taken from the row). Learned from a record the general
 * decoder read (`envelope.ts`): schemaless columns by their inferred types, columns of a
 * Connect schema by their converters. The fast path (`fast-json.ts`) turns the next
 * records' bytes straight into the row's Avro encoding with it. Pure.
 */
import type { AvroType, TableSchema } from '../table/schema.js';
import type { RowCodec } from './connect-schema.js';
import * as sv from './semantic-value.js';

/** Which JSON values a column takes as they are (null aside). */
export const Accept = {
  /** A plain integer within 32 bits. */
  Int32: 0,
  /** A plain integer of at most 15 digits (longer ones may need a bigint). */
  Integer: 1,
  /** Any JSON number but an integer of more than 15 digits. */
  Number: 2,
  /** A string without escapes or non-ASCII characters. */
  String: 3,
  Boolean: 4,
  /** Only null (a schemaless column seen only as null so far; a table's column the schema no longer has). */
  Null: 5,
} as const;
export type Accept = (typeof Accept)[keyof typeof Accept];

/** How the table's Avro schema writes the column: a `["null", T]` union of these. */
export const Write = { Varint: 0, Float32: 1, Float64: 2, Utf8: 3, Bool: 4 } as const;
export type Write = (typeof Write)[keyof typeof Write];

export interface FastColumn {
  /** The bytes `"<name>":` that open its member in `after`. */
  member: Uint8Array;
  accept: Accept;
  write: Write;
  /** Whether null is a value (a Connect field that is not optional makes null a bad record). */
  optional: boolean;
}

export interface FastLayout {
  /** `<schema>.<table>`. */
  table: string;
  /** The tracked table schema the rows are written in (checked by identity before each use). */
  schema: TableSchema;
  /** The one key column, as the event's `keyFields`. */
  keyFields: string[];
  /** The key column's index among the columns (an integer column whose row value must be the key's). */
  keyColumn: number;
  columns: FastColumn[];
  /** With a Connect schema: the row codec of the value schema the records must have (by identity). */
  codec?: RowCodec;
  /** With a Connect schema: the key schema's codec the records' keys must have (by identity). */
  keyCodec?: RowCodec;
  /** The key schema's field is 32-bit: a larger key value is a bad record. */
  keyInt32?: boolean;
  /** The value's and the key's schema bytes last found to have these codecs (`fast-json.ts` compares the next records' with them first). */
  seen?: { value: Buffer; key: Buffer };
}

const encoder = new TextEncoder();

/** The table's Avro type of a column, as the fast path writes it; undefined for any other type. */
function writeOf(type: AvroType): Write | undefined {
  if (!Array.isArray(type) || type.length !== 2 || type[0] !== 'null') return undefined;
  const t = type[1];
  const name = typeof t === 'string' ? t : typeof t === 'object' && !Array.isArray(t) ? t.type : undefined;
  if (name === 'int' || name === 'long') return Write.Varint;
  if (name === 'float') return Write.Float32;
  if (name === 'double') return Write.Float64;
  if (name === 'string') return Write.Utf8;
  if (name === 'boolean') return Write.Bool;
  return undefined;
}

/** Whether a write takes what a column accepts: numbers into numbers, integers only into integers. */
function fits(accept: Accept, write: Write): boolean {
  if (accept === Accept.Null) return true;
  switch (write) {
    case Write.Varint:
      return accept === Accept.Int32 || accept === Accept.Integer;
    case Write.Float32:
    case Write.Float64:
      return accept === Accept.Int32 || accept === Accept.Integer || accept === Accept.Number;
    case Write.Utf8:
      return accept === Accept.String;
    default:
      return accept === Accept.Boolean;
  }
}

/** Printable ASCII that JSON writes without escapes, so the name's bytes are its JSON text. */
function plainName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function layout(table: string, schema: TableSchema, keyFields: string[], accepts: (Accept | undefined)[], optional: boolean[], codecs?: { codec: RowCodec; keyCodec: RowCodec }): FastLayout | undefined {
  const key = keyFields[0];
  if (keyFields.length !== 1 || key === undefined) return undefined;
  const columns: FastColumn[] = [];
  for (const [i, f] of schema.fields.entries()) {
    const accept = accepts[i];
    const write = writeOf(f.type);
    if (accept === undefined || write === undefined || !fits(accept, write) || !plainName(f.name)) return undefined;
    columns.push({ member: encoder.encode(`"${f.name}":`), accept, write, optional: optional[i] ?? true });
  }
  const keyColumn = schema.fields.findIndex((f) => f.name === key);
  const k = columns[keyColumn];
  if (k === undefined || k.write !== Write.Varint) return undefined;
  return { table, schema, keyFields, keyColumn, columns, ...(codecs ? { ...codecs, keyInt32: codecs.keyCodec.fields[0]?.convert === sv.toInt } : {}) };
}

/** What a schemaless column takes as it is, by its inferred type (`schemaless.ts`). */
function inferredAccept(type: AvroType): Accept | undefined {
  if (!Array.isArray(type) || type.length !== 2) return undefined;
  const t = type[1];
  if (t === 'long') return Accept.Integer;
  if (t === 'double') return Accept.Number;
  if (t === 'string') return Accept.String;
  if (t === 'boolean') return Accept.Boolean;
  if (typeof t === 'object' && !Array.isArray(t) && t.type === 'string' && (t as Record<string, unknown>)['cdc.semantic'] === 'untyped' && Object.keys(t).length === 2) return Accept.Null;
  return undefined;
}

/** The layout of a schemaless table's rows, or undefined when a column or the key is of a shape the fast path leaves to the general decoder. */
export function schemalessLayout(table: string, schema: TableSchema, keyFields: string[]): FastLayout | undefined {
  return layout(table, schema, keyFields, schema.fields.map((f) => inferredAccept(f.type)), []);
}

/** Connect converters that keep a JSON value as it is, and what they take. */
const CONVERTERS = new Map<unknown, Accept>([
  [sv.toInt, Accept.Int32],
  [sv.toLong, Accept.Integer],
  [sv.toDouble, Accept.Number],
  [sv.toStr, Accept.String],
  [sv.toBool, Accept.Boolean],
]);

/**
 * The layout of rows a Connect schema describes (JSON with schema), written in the tracked
 * table schema: its columns are the codec's fields in order (columns the table kept from
 * earlier schemas come in null); keys must have `keyCodec`'s schema.
 */
export function codecLayout(table: string, schema: TableSchema, keyFields: string[], codec: RowCodec, keyCodec: RowCodec): FastLayout | undefined {
  const key = keyCodec.fields[0];
  if (keyCodec.fields.length !== 1 || key === undefined || (key.convert !== sv.toInt && key.convert !== sv.toLong)) return undefined;
  const byName = new Map(codec.fields.map((f) => [f.name, f]));
  const accepts = schema.fields.map((f) => {
    const field = byName.get(f.name);
    return field === undefined ? Accept.Null : CONVERTERS.get(field.convert);
  });
  return layout(table, schema, keyFields, accepts, schema.fields.map((f) => byName.get(f.name)?.optional ?? true), { codec, keyCodec });
}
