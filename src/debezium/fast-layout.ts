/**
 * The shape a schemaless JSON table's change values keep record after record: its columns
 * (names and kinds, in the tracked table schema's order) and its one integer key column
 * (a long column of the row, as the record key is taken from the row).
 * Learned from a record the general decoder read (`envelope.ts`), then used by the fast
 * path (`fast-json.ts`) to turn the next records' bytes straight into the row's Avro
 * encoding. Pure.
 */
import type { AvroType, TableSchema } from '../table/schema.js';

/** How a column's JSON value is checked and written: each kind is a nullable union `["null", T]`. */
export const Kind = {
  Long: 0,
  Double: 1,
  String: 2,
  Boolean: 3,
  /** A schemaless column seen only as null so far: only null keeps its type. */
  Untyped: 4,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export interface FastLayout {
  /** `<schema>.<table>`. */
  table: string;
  /** The tracked table schema the rows are written in (checked by identity before each use). */
  schema: TableSchema;
  /** The one key column, as the event's `keyFields`. */
  keyFields: string[];
  /** The key column's index among the columns (a long column, whose row value must be the key's). */
  keyColumn: number;
  /** Per column, the bytes `"<name>":` that must open its member in `after`. */
  members: Uint8Array[];
  kinds: Kind[];
}

const encoder = new TextEncoder();

function kindOf(type: AvroType): Kind | undefined {
  if (!Array.isArray(type) || type.length !== 2 || type[0] !== 'null') return undefined;
  const t = type[1];
  if (t === 'long') return Kind.Long;
  if (t === 'double') return Kind.Double;
  if (t === 'string') return Kind.String;
  if (t === 'boolean') return Kind.Boolean;
  if (typeof t === 'object' && !Array.isArray(t) && t.type === 'string' && (t as Record<string, unknown>)['cdc.semantic'] === 'untyped' && Object.keys(t).length === 2) return Kind.Untyped;
  return undefined;
}

/** Printable ASCII that JSON writes without escapes, so the name's bytes are its JSON text. */
function plainName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** The layout of a table's rows, or undefined when a column or the key is of a shape the fast path leaves to the general decoder. */
export function fastLayout(table: string, schema: TableSchema, keyFields: string[]): FastLayout | undefined {
  const key = keyFields[0];
  if (keyFields.length !== 1 || key === undefined || !plainName(key)) return undefined;
  const kinds: Kind[] = [];
  const members: Uint8Array[] = [];
  for (const f of schema.fields) {
    const kind = kindOf(f.type);
    if (kind === undefined || !plainName(f.name)) return undefined;
    kinds.push(kind);
    members.push(encoder.encode(`"${f.name}":`));
  }
  const keyColumn = schema.fields.findIndex((f) => f.name === key);
  if (kinds[keyColumn] !== Kind.Long) return undefined;
  return { table, schema, keyFields, keyColumn, members, kinds };
}
