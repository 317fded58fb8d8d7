/**
 * One entry point for query output: pick a format, give the table schema and a
 * sink, then write rows (arrays, async iterables) or Arrow tables.
 */
import type { Table } from 'apache-arrow';
import { arrowToRows } from '../../table/parquet.js';
import type { Row, TableSchema } from '../../table/schema.js';
import { ArrowStreamOutput, ParquetStreamOutput } from './arrow.js';
import { csvFormatter } from './csv.js';
import { jsonlFormatter } from './jsonl.js';
import type { RowFormatter } from './row-formatter.js';
import type { ByteSink } from './sink.js';
import { renderTable, type TableTextOptions } from './table.js';

export const OUTPUT_FORMATS = ['table', 'jsonl', 'csv', 'parquet', 'arrow'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Unknown format name, or a binary format aimed at a terminal. */
export class OutputFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFormatError';
  }
}

export function parseOutputFormat(name: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(name)) return name as OutputFormat;
  throw new OutputFormatError(`unknown output format "${name}"; use one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** `table` on a terminal, `jsonl` when piped (design.md §5). */
export function defaultOutputFormat(isTty: boolean): OutputFormat {
  return isTty ? 'table' : 'jsonl';
}

export interface OutputWriter {
  write(rows: readonly Row[]): Promise<void>;
  writeTable(table: Table): Promise<void>;
  /** Writes what the format keeps until the end (table text, Parquet file, Arrow EOS) and closes the sink. */
  end(): Promise<number>;
}

export interface OutputOptions extends TableTextOptions {
  /** Parquet rows per row group (default 128Ki): bounds memory while exporting. */
  rowGroupSize?: number;
}

export function createWriter(format: OutputFormat, schema: TableSchema, sink: ByteSink, opts: OutputOptions = {}): OutputWriter {
  switch (format) {
    case 'jsonl':
      return textWriter(jsonlFormatter(schema), sink, schema);
    case 'csv':
      return textWriter(csvFormatter(schema), sink, schema);
    case 'table': {
      // Widths depend on every cell, so the table is rendered once at the end.
      const all: Row[] = [];
      return {
        write: async (rows) => void all.push(...rows),
        writeTable: async (t) => void all.push(...arrowToRows(t, schema)),
        end: async () => {
          await sink.write(renderTable(schema, all, opts));
          await sink.close();
          return all.length;
        },
      };
    }
    case 'parquet': {
      const out = new ParquetStreamOutput(schema, sink, { rowGroupSize: opts.rowGroupSize });
      let n = 0;
      return {
        write: async (rows) => {
          if (rows.length === 0) return;
          n += rows.length;
          await out.writeRows(rows);
        },
        writeTable: async (t) => {
          n += t.numRows;
          await out.writeTable(t);
        },
        end: async () => {
          await out.end();
          await sink.close();
          return n;
        },
      };
    }
    case 'arrow': {
      const out = new ArrowStreamOutput(schema, sink);
      let n = 0;
      return {
        write: async (rows) => {
          if (rows.length === 0) return;
          n += rows.length;
          out.writeRows(rows);
        },
        writeTable: async (t) => {
          n += t.numRows;
          out.writeTable(t);
        },
        end: async () => {
          await out.end();
          await sink.close();
          return n;
        },
      };
    }
  }
}

function textWriter(f: RowFormatter, sink: ByteSink, schema: TableSchema): OutputWriter {
  let n = 0;
  let started = false;
  const start = async (): Promise<void> => {
    if (started) return;
    started = true;
    const h = f.header();
    if (h) await sink.write(h);
  };
  return {
    write: async (rows) => {
      await start();
      n += rows.length;
      const text = f.rows(rows);
      if (text) await sink.write(text);
    },
    async writeTable(t) {
      await this.write(arrowToRows(t, schema));
    },
    end: async () => {
      await start();
      const foot = f.footer(n);
      if (foot) await sink.write(foot);
      await sink.close();
      return n;
    },
  };
}

export type OutputInput = readonly Row[] | AsyncIterable<Row> | AsyncIterable<readonly Row[]> | Table;

function isArrowTable(x: OutputInput): x is Table {
  return typeof (x as Table).batches !== 'undefined' && typeof (x as Table).schema !== 'undefined' && !Array.isArray(x);
}

/** Writes a whole result and returns the number of rows. Async iterables may yield rows or row chunks. */
export async function writeOutput(format: OutputFormat, schema: TableSchema, input: OutputInput, sink: ByteSink, opts: OutputOptions = {}): Promise<number> {
  const w = createWriter(format, schema, sink, opts);
  if (Array.isArray(input)) {
    const CHUNK = 8192;
    for (let i = 0; i < input.length; i += CHUNK) await w.write(input.slice(i, i + CHUNK));
  } else if (isArrowTable(input as OutputInput)) {
    await w.writeTable(input as Table);
  } else {
    let chunk: Row[] = [];
    for await (const item of input as AsyncIterable<Row | readonly Row[]>) {
      if (Array.isArray(item)) await w.write(item as readonly Row[]);
      else {
        chunk.push(item as Row);
        if (chunk.length >= 8192) {
          await w.write(chunk);
          chunk = [];
        }
      }
    }
    if (chunk.length > 0) await w.write(chunk);
  }
  return w.end();
}
