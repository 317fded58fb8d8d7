/**
 * Table schema evolution across events. Each event carries (or references) the schema it
 * was written with; the tracker folds them into one table schema per table: new fields
 * are added (nullable, at the event's position), types combine by the table's own rule
 * (`widerType` in table/schema-evolution.ts: Avro numeric promotion, untyped schemaless
 * columns take the first real type, an older narrower event keeps the wider type), and
 * anything else (a type change, a key change) is an incompatible change for that table alone.
 *
 * Events repeat a handful of schema objects (the decoder caches them per Connect schema
 * or schemaless shape), and folding is idempotent, so a schema already folded into the
 * table is recognised by identity and costs one set lookup per record.
 */
import type { AvroField, TableSchema } from '../table/schema.js';
import { columnTypeText, widerType } from '../table/schema-evolution.js';

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

interface TrackedTable {
  schema: TableSchema;
  keyFields: string[];
  /** Incoming schemas already folded into `schema` with these key fields (folding again is a no-op). */
  folded: WeakSet<TableSchema>;
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SchemaTracker {
  private readonly tables = new Map<string, TrackedTable>();
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
    this.tables.set(table, { schema, keyFields: [...keyFields], folded: new WeakSet([schema]) });
  }

  observe(table: string, incoming: TableSchema, keyFields: string[]): SchemaObservation {
    const q = this.quarantined.get(table);
    if (q) return { ok: false, error: q };
    const cur = this.tables.get(table);
    if (!cur) {
      this.tables.set(table, { schema: incoming, keyFields: [...keyFields], folded: new WeakSet([incoming]) });
      return { ok: true, schema: incoming, evolved: false };
    }
    if (!sameNames(cur.keyFields, keyFields)) {
      return this.reject(table, null, `key fields changed from [${cur.keyFields.join(', ')}] to [${keyFields.join(', ')}]`);
    }
    if (cur.folded.has(incoming)) return { ok: true, schema: cur.schema, evolved: false };
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
        const wider = widerType(stored.type, f.type);
        if (wider === undefined) {
          return this.reject(table, f.name, `type ${columnTypeText(f.type)} is not compatible with the table's ${columnTypeText(stored.type)} (only new columns and Avro numeric promotion int→long→float→double are)`);
        }
        if (wider !== stored.type) {
          fields[at] = { ...stored, type: wider };
          evolved = true;
        }
      }
      prev = f.name;
    }
    if (!evolved) {
      cur.folded.add(incoming);
      return { ok: true, schema: cur.schema, evolved: false };
    }
    const schema: TableSchema = { ...cur.schema, fields };
    // A new table schema: what was folded into the old one is folded into it too.
    const folded = cur.folded;
    folded.add(incoming);
    this.tables.set(table, { schema, keyFields: cur.keyFields, folded });
    return { ok: true, schema, evolved: true };
  }

  private reject(table: string, field: string | null, detail: string): SchemaObservation {
    const error = new IncompatibleSchemaChange(table, field, detail);
    this.quarantined.set(table, error);
    return { ok: false, error };
  }
}
