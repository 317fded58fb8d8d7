/**
 * CSV per RFC 4180: CRLF line ends, a header row, fields quoted when they hold
 * a comma, quote, CR or LF. Values are the JSONL text without JSON quoting of
 * strings; NULL is an empty field and the empty string is `""`, so they stay
 * distinguishable.
 */
import type { Row, TableSchema } from '../../table/schema.js';
import { compileText, valueKind } from './value-text.js';
import type { RowFormatter } from './row-formatter.js';

export function csvField(text: string | undefined): string {
  if (text === undefined) return '';
  if (text === '' || /[",\r\n]/.test(text)) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvFormatter(schema: TableSchema): RowFormatter {
  const cols = schema.fields.map((f) => ({ name: f.name, fmt: compileText(valueKind(f.type)) }));
  return {
    header: () => cols.map((c) => csvField(c.name)).join(',') + '\r\n',
    rows: (rows: readonly Row[]) => {
      let out = '';
      for (const r of rows) out += cols.map((c) => csvField(c.fmt(r[c.name]))).join(',') + '\r\n';
      return out;
    },
    footer: () => '',
  };
}
