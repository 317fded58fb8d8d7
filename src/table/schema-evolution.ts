import { nonNull, type AvroField, type AvroType, type TableSchema } from './schema.js';

/**
 * Table schema evolution the way Debezium changes tables: new nullable columns
 * (at the end or mid-row) and numeric widening (int → long, float → double).
 * Columns are never dropped: a column missing from newer events stays in the
 * table and reads as null for new rows. Anything else is incompatible.
 */

export class IncompatibleSchema extends Error {
  override readonly name = 'IncompatibleSchema';
}

export interface Evolution {
  schema: TableSchema;
  /** The stored schema must be rewritten (files need the new layout). */
  changed: boolean;
}

/** Avro's numeric promotions (the resolution rules Hudi readers apply to older files). */
const WIDENINGS: Record<string, string[]> = { int: ['long', 'float', 'double'], long: ['float', 'double'], float: ['double'] };

/** A column type as text for messages and equality, without its nullability. */
export function columnTypeText(t: AvroType): string {
  return JSON.stringify(nonNull(t));
}

function primitiveName(t: AvroType): string | undefined {
  const n = nonNull(t);
  if (typeof n === 'string') return n;
  if (!Array.isArray(n) && 'logicalType' in n) return undefined; // logical types do not widen
  if (!Array.isArray(n) && (n.type === 'int' || n.type === 'long' || n.type === 'float' || n.type === 'double')) return n.type;
  return undefined;
}

/** A schemaless column seen only as null (see debezium/schemaless.ts): it has no real type yet. */
export function isUntyped(t: AvroType): boolean {
  const n = nonNull(t);
  return typeof n === 'object' && !Array.isArray(n) && (n as { 'cdc.semantic'?: string })['cdc.semantic'] === 'untyped';
}

/**
 * The wider of two column types, or undefined when neither holds the other. The one rule
 * for both the decoder's SchemaTracker and the table's stored schema: equal types,
 * untyped (null-only) columns, and Avro numeric promotion. It is a join: folding a type in
 * twice changes nothing, so an older, narrower event after a widening still fits.
 */
export function widerType(stored: AvroType, incoming: AvroType): AvroType | undefined {
  if (stored === incoming || columnTypeText(stored) === columnTypeText(incoming)) return stored;
  // A schemaless column seen only as null so far has no real type: the first real type wins.
  if (isUntyped(stored)) return incoming;
  if (isUntyped(incoming)) return stored;
  const a = primitiveName(stored);
  const b = primitiveName(incoming);
  if (a === undefined || b === undefined) return undefined;
  if (WIDENINGS[a]?.includes(b)) return incoming;
  if (WIDENINGS[b]?.includes(a)) return stored; // an older, narrower event: the table keeps its wider type
  return undefined;
}

export function evolveSchema(stored: TableSchema | undefined, incoming: TableSchema, table: string): Evolution {
  if (stored === undefined) return { schema: incoming, changed: true };
  const out: AvroField[] = [...stored.fields];
  let changed = false;
  // Index in `out` of the last incoming field placed: a new field goes right after it.
  let last = -1;
  for (const f of incoming.fields) {
    const at = out.findIndex((x) => x.name === f.name);
    if (at < 0) {
      out.splice(last + 1, 0, { ...f, default: null });
      last++;
      changed = true;
      continue;
    }
    last = at;
    const cur = out[at] as AvroField;
    const wider = widerType(cur.type, f.type);
    if (wider === undefined) {
      throw new IncompatibleSchema(
        `table ${table}: column ${f.name} changed from ${columnTypeText(cur.type)} to ${columnTypeText(f.type)}; only new nullable columns and int→long / float→double widening are supported — recreate the table or route the new type to a new column`,
      );
    }
    if (wider !== cur.type) {
      out[at] = { ...cur, type: wider };
      changed = true;
    }
  }
  return { schema: { ...stored, fields: out }, changed };
}
