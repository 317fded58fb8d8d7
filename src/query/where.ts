import { formatValueText } from './output/index.js';
import { nonNull, type AvroType, type Row, type TableSchema } from '../table/schema.js';

/**
 * `--where` predicates: simple comparisons on columns (`col=value`, `!=`, `<`,
 * `<=`, `>`, `>=`), ANDed. Values compare as numbers when the column is numeric,
 * else as their JSONL text (dates `YYYY-MM-DD`, timestamps ISO-8601), so what a
 * user reads in the output is what they can filter on.
 */

export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=';

export interface Predicate {
  column: string;
  op: Comparison;
  value: string;
}

export class PredicateError extends Error {
  override readonly name = 'PredicateError';
}

const FORM = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*(.*?)\s*$/;

export function parsePredicate(text: string): Predicate {
  const m = FORM.exec(text);
  if (!m) throw new PredicateError(`--where "${text}" is not <column><op><value> with op one of = != < <= > >=`);
  const value = (m[3] as string).replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  return { column: m[1] as string, op: m[2] as Comparison, value };
}

function numeric(type: AvroType): boolean {
  const t = nonNull(type);
  const name = typeof t === 'string' ? t : Array.isArray(t) ? '' : t.type;
  const logical = typeof t === 'object' && !Array.isArray(t) && 'logicalType' in t;
  return !logical && (name === 'int' || name === 'long' || name === 'float' || name === 'double');
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function holds(c: number, op: Comparison): boolean {
  switch (op) {
    case '=': return c === 0;
    case '!=': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    case '>=': return c >= 0;
  }
}

/** A row filter for the predicates; unknown columns are a usage error naming the columns that exist. */
export function rowFilter(preds: readonly Predicate[], schema: TableSchema): ((row: Row) => boolean) | undefined {
  if (preds.length === 0) return undefined;
  const checks = preds.map((p) => {
    const field = schema.fields.find((f) => f.name === p.column);
    if (field === undefined) throw new PredicateError(`--where: unknown column "${p.column}"; columns: ${schema.fields.map((f) => f.name).join(', ')}`);
    if (numeric(field.type)) {
      const want = Number(p.value);
      if (Number.isNaN(want)) throw new PredicateError(`--where ${p.column}${p.op}${p.value}: ${p.column} is numeric, "${p.value}" is not a number`);
      return (row: Row) => {
        const v = row[p.column];
        return v !== null && v !== undefined && holds(compare(Number(v), want), p.op);
      };
    }
    return (row: Row) => {
      const text = formatValueText(row[p.column], field.type);
      return text !== undefined && holds(compare(text, p.value), p.op);
    };
  });
  return (row) => checks.every((c) => c(row));
}

/** Partition pruning for hive-style `field=value` folders: skips partitions no row of which can match. */
export function partitionFilter(preds: readonly Predicate[], partitionField: string | undefined, schema: TableSchema): ((partition: string) => boolean) | undefined {
  if (partitionField === undefined) return undefined;
  const mine = preds.filter((p) => p.column === partitionField);
  if (mine.length === 0) return undefined;
  const field = schema.fields.find((f) => f.name === partitionField);
  const isNumeric = field !== undefined && numeric(field.type);
  return (partition) => {
    const text = partition.startsWith(`${partitionField}=`) ? partition.slice(partitionField.length + 1) : partition;
    return mine.every((p) => holds(isNumeric ? compare(Number(text), Number(p.value)) : compare(text, p.value), p.op));
  };
}
