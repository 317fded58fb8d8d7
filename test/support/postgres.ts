// PostgreSQL side of the e2e tests: run SQL through the stack's psql and read a
// table's rows in the JSONL value conventions of design §5, so they compare
// directly with `cdc-lake query snapshot --format jsonl`.
import { parse as losslessParse } from 'lossless-json';
import { sql } from './debezium.js';

export { sql };

/** A row as JSON values: integers as bigint (exact), other numbers as number. */
export type JsonRow = Record<string, unknown>;

/** Parses JSON keeping integers exact (bigint) and other numbers as numbers. */
export function parseJsonExact(text: string): unknown {
  return losslessParse(text, null, (s) => (/^-?\d+$/.test(s) ? BigInt(s) : Number(s)));
}

/**
 * Rows of `select <columns> from <table> order by <orderBy>` as JSON objects.
 * `columns` is a select list that already renders values in the JSONL
 * conventions (e.g. `amount::text as amount` for a decimal).
 */
export async function selectRows(table: string, columns: string, orderBy: string): Promise<JsonRow[]> {
  const text = await sql(`select coalesce(json_agg(row_to_json(t) order by ${orderBy}), '[]'::json) from (select ${columns} from ${table}) t;`);
  return parseJsonExact(text.trim()) as JsonRow[];
}

/** A text that stays out of line in TOAST (with STORAGE EXTERNAL) and larger than a page: `n` × 32 hex chars. */
export function bigTextSql(n = 400): string {
  return `(select string_agg(md5(i::text), '') from generate_series(1, ${n}) i)`;
}
