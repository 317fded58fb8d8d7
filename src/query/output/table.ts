/**
 * Aligned text for a terminal: a header, a rule, one line per row, numbers
 * right-aligned, NULL shown as `NULL`, wide cells cut with `…`, control
 * characters escaped so one row stays one line.
 */
import type { Row, TableSchema } from '../../table/schema.js';
import { compileText, valueKind, type ValueKind } from './value-text.js';

export interface TableTextOptions {
  /** Widest a cell may be before it is cut (default 40). */
  maxCellWidth?: number;
}

const NUMERIC = new Set(['int', 'long', 'float', 'double', 'number', 'decimal']);

function cut(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length <= width ? text : chars.slice(0, Math.max(1, width - 1)).join('') + '…';
}

const visible = (s: string): number => Array.from(s).length;

function cleanCell(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Renders all rows at once: column widths depend on every cell. */
export function renderTable(schema: TableSchema, rows: readonly Row[], opts: TableTextOptions = {}): string {
  const max = opts.maxCellWidth ?? 40;
  const cols = schema.fields.map((f) => {
    const kind: ValueKind = valueKind(f.type);
    return { name: f.name, fmt: compileText(kind), right: NUMERIC.has(kind.k) };
  });
  const cells = rows.map((r) =>
    cols.map((c) => {
      const t = c.fmt(r[c.name]);
      return cut(t === undefined ? 'NULL' : cleanCell(t), max);
    }),
  );
  const heads = cols.map((c) => cut(c.name, max));
  const widths = cols.map((_, i) => Math.max(visible(heads[i]!), ...cells.map((row) => visible(row[i]!))));
  const line = (vals: string[], alignRight: boolean): string =>
    vals
      .map((v, i) => {
        const padN = widths[i]! - visible(v);
        return alignRight && cols[i]!.right ? ' '.repeat(padN) + v : v + ' '.repeat(padN);
      })
      .join(' | ')
      .trimEnd();
  const out = [line(heads, false), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map((row) => line(row, true))];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}
