/**
 * Table schema evolution across events. Each event carries (or references) the schema it
 * was written with; the tracker folds them into one table schema per table:
 * new fields are added (nullable, at the event's position), int→long and float→double
 * widen, anything else (narrowing, type change, key change) is an incompatible change for
 * that table alone.
 */
import type { AvroField, AvroType, TableSchema } from '../table/schema.js';
import { nonNull } from '../table/schema.js';

export function avroName(s: string): string {
  const n = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(n) ? n : `_${n}`;
}

/** The table schema record for `<schema>.<table>` (Hudi names it `<schema>_<table>_record`). */
export function tableSchemaOf(table: string, fields: AvroField[]): TableSchema {
  const name = avroName(table.replace('.', '_'));
  return { type: 'record', name: `${name}_record`, namespace: `hoodie.${name}`, fields };
}

export class IncompatibleSchemaChange extends Error {
  constructor(
    readonly table: string,
    readonly field: string | null,
    detail: string,
  ) {
    super(`table ${table}: incompatible schema change${field ? ` of field ${field}` : ''}: ${detail}; the table is quarantined, other tables continue — migrate it (e.g. re-snapshot into a new table) to resume`);
    this.name = 'IncompatibleSchemaChange';
  }
}

export type SchemaObservation =
  | { ok: true; schema: TableSchema; evolved: boolean }
  | { ok: false; error: IncompatibleSchemaChange };

function typeKey(t: AvroType): string {
  return JSON.stringify(nonNull(t));
}

const WIDENINGS: Record<string, string> = { '"int"': '"long"', '"float"': '"double"' };

/** Compare an incoming field type with the stored one: 'same', 'widen' (take incoming) or 'keep' (incoming is older but fits) or an error text. */
function compare(stored: AvroType, incoming: AvroType): 'same' | 'take' | string {
  const s = typeKey(stored);
  const i = typeKey(incoming);
  if (s === i) return 'same';
  const sn = nonNull(stored);
  // Schemaless columns seen only as null have no real type yet: the first real type wins.
  if (typeof sn === 'object' && !Array.isArray(sn) && (sn as { 'cdc.semantic'?: string })['cdc.semantic'] === 'untyped') return 'take';
  const inn = nonNull(incoming);
  if (typeof inn === 'object' && !Array.isArray(inn) && (inn as { 'cdc.semantic'?: string })['cdc.semantic'] === 'untyped') return 'same';
  if (WIDENINGS[s] === i) return 'take';
  return `type ${i} is not compatible with the table's ${s} (only int→long and float→double widen)`;
}

export class SchemaTracker {
  private readonly tables = new Map<string, { schema: TableSchema; keyFields: string[] }>();
  private readonly quarantined = new Map<string, IncompatibleSchemaChange>();

  /** The current schema of a table, if seen. */
  schemaOf(table: string): TableSchema | undefined {
    return this.tables.get(table)?.schema;
  }

  quarantineReason(table: string): IncompatibleSchemaChange | undefined {
    return this.quarantined.get(table);
  }

  /** Seed from a stored table (e.g. the writer's latest commit schema). */
  seed(table: string, schema: TableSchema, keyFields: string[]): void {
    this.tables.set(table, { schema, keyFields: [...keyFields] });
  }

  observe(table: string, incoming: TableSchema, keyFields: string[]): SchemaObservation {
    const q = this.quarantined.get(table);
    if (q) return { ok: false, error: q };
    const cur = this.tables.get(table);
    if (!cur) {
      this.tables.set(table, { schema: incoming, keyFields: [...keyFields] });
      return { ok: true, schema: incoming, evolved: false };
    }
    if (cur.keyFields.join('\u0000') !== keyFields.join('\u0000')) {
      return this.reject(table, null, `key fields changed from [${cur.keyFields.join(', ')}] to [${keyFields.join(', ')}]`);
    }
    const fields = [...cur.schema.fields];
    const index = new Map(fields.map((f, i) => [f.name, i] as const));
    let evolved = false;
    let prev: string | null = null;
    for (const f of incoming.fields) {
      const at = index.get(f.name);
      if (at === undefined) {
        // Insert after the event's preceding known field, so column order follows the source.
        const after = prev === null ? -1 : fields.findIndex((x) => x.name === prev);
        fields.splice(after + 1, 0, { name: f.name, type: f.type, default: null });
        index.clear();
        fields.forEach((x, i) => index.set(x.name, i));
        evolved = true;
      } else {
        const stored = fields[at] as AvroField;
        const c = compare(stored.type, f.type);
        if (c === 'take') {
          fields[at] = { ...stored, type: f.type };
          evolved = true;
        } else if (c !== 'same') {
          return this.reject(table, f.name, c);
        }
      }
      prev = f.name;
    }
    if (!evolved) return { ok: true, schema: cur.schema, evolved: false };
    const schema: TableSchema = { ...cur.schema, fields };
    this.tables.set(table, { schema, keyFields: cur.keyFields });
    return { ok: true, schema, evolved: true };
  }

  private reject(table: string, field: string | null, detail: string): SchemaObservation {
    const error = new IncompatibleSchemaChange(table, field, detail);
    this.quarantined.set(table, error);
    return { ok: false, error };
  }
}
