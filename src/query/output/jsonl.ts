/** JSON Lines: one object per row, keys in schema order, values per the JSONL conventions. */
import type { Row, TableSchema } from '../../table/schema.js';
import { compileJson, valueKind } from './value-text.js';
import type { RowFormatter } from './row-formatter.js';

export function jsonlFormatter(schema: TableSchema): RowFormatter {
  const cols = schema.fields.map((f) => ({ name: f.name, key: JSON.stringify(f.name), fmt: compileJson(valueKind(f.type)) }));
  return {
    header: () => '',
    rows: (rows: readonly Row[]) => {
      let out = '';
      for (const r of rows) {
        out += '{';
        for (let i = 0; i < cols.length; i++) {
          const c = cols[i]!;
          out += `${i === 0 ? '' : ','}${c.key}:${c.fmt(r[c.name])}`;
        }
        out += '}\n';
      }
      return out;
    },
    footer: () => '',
  };
}
