/**
 * Routing: a decoded event's `<schema>.<table>` → the table's identity (where it lives,
 * its Hudi name) and its effective settings (config defaults merged with the per-table
 * override). Names become path segments, so they are sanitised here, once: characters
 * outside [A-Za-z0-9_] become '_', case is kept, and anything that could escape the
 * lake folder ('/', '\', '..', empty parts) is rejected.
 */
import type { Config, TableOptions } from '../config/schema.js';
import { tableOptions } from '../config/table-options.js';

export interface TableIdentity {
  /** `<schema>.<table>` after sanitising; the key of buffers, checkpoints and overrides. */
  id: string;
  schema: string;
  table: string;
  /** Folder under the lake root: `<schema>/<table>`. */
  path: string;
  /** Hudi `hoodie.table.name`: `<schema>_<table>`. */
  hudiTableName: string;
  /** Hudi database name: `<schema>`. */
  database: string;
}

export interface Route {
  identity: TableIdentity;
  options: TableOptions;
}

/** The event names a table that cannot become a safe folder; dead-letter the record. */
export class RouteError extends Error {
  constructor(
    readonly tableName: string,
    reason: string,
  ) {
    super(`table name ${JSON.stringify(tableName)} ${reason}; fix the connector's naming or add a route rename`);
    this.name = 'RouteError';
  }
}

const ESCAPE = /[/\\]|\.\./;

/** One name part → [A-Za-z0-9_]+ (other characters become '_'); throws on path escapes. */
export function sanitizeNamePart(part: string, whole: string): string {
  if (part.length === 0) throw new RouteError(whole, 'has an empty schema or table part');
  if (ESCAPE.test(part) || part === '.') throw new RouteError(whole, "contains '/', '\\' or '..' (a path escape)");
  if (part.includes('\u0000')) throw new RouteError(whole, 'contains a NUL character');
  return part.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * `<schema>.<table>` → identity. The table part is everything after the FIRST '.', so a
 * MySQL table named `a.b` in database `db` keeps its name (sanitised to `a_b`).
 */
export function tableIdentity(name: string): TableIdentity {
  if (ESCAPE.test(name)) throw new RouteError(name, "contains '/', '\\' or '..' (a path escape)");
  const dot = name.indexOf('.');
  if (dot < 0) throw new RouteError(name, 'is not of the form <schema>.<table>');
  const schema = sanitizeNamePart(name.slice(0, dot), name);
  const table = sanitizeNamePart(name.slice(dot + 1), name);
  return {
    id: `${schema}.${table}`,
    schema,
    table,
    path: `${schema}/${table}`,
    hudiTableName: `${schema}_${table}`,
    database: schema,
  };
}

/** Caches routes per raw table name; options come from `config.tables` (defaults + overrides by sanitised id). */
export class Router {
  private readonly cache = new Map<string, Route>();

  constructor(private readonly config: Pick<Config, 'tables'>) {}

  route(table: string): Route {
    let r = this.cache.get(table);
    if (!r) {
      const identity = tableIdentity(table);
      r = { identity, options: tableOptions(this.config, identity.id) };
      this.cache.set(table, r);
    }
    return r;
  }

  /** Every table routed so far (for status and shutdown flushes). */
  routes(): Route[] {
    return [...this.cache.values()];
  }
}
