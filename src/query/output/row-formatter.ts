import type { Row } from '../../table/schema.js';

/** A text format: header once, rows in chunks, footer once (each may be ''). */
export interface RowFormatter {
  header(): string;
  rows(rows: readonly Row[]): string;
  footer(rowCount: number): string;
}
