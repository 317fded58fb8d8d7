/**
 * Arrow IPC stream and Parquet output. The row → Arrow conversion is the table
 * layer's (`src/table/parquet.ts`: `rowsToArrow`, `writeParquet`), so query
 * output uses exactly the Arrow types of our base files: Timestamp(UTC) for
 * timestamps, Decimal128 for decimals, Date32, Time32/64, List, Struct.
 */
import { RecordBatchStreamWriter, type Table } from 'apache-arrow';
import { rowsToArrow, writeParquet } from '../../table/parquet.js';
import type { Row, TableSchema } from '../../table/schema.js';
import type { ByteSink } from './sink.js';

/** Streams Arrow record batches: one schema message, a batch per `write`, then end-of-stream. */
export class ArrowStreamOutput {
  private readonly writer = new RecordBatchStreamWriter();
  private pumping: Promise<void>;
  private wrote = false;

  constructor(
    private readonly schema: TableSchema,
    private readonly sink: ByteSink,
  ) {
    this.pumping = this.pump();
  }

  private async pump(): Promise<void> {
    for await (const chunk of this.writer) await this.sink.write(chunk);
  }

  writeRows(rows: readonly Row[]): void {
    this.writeTable(rowsToArrow(this.schema, rows));
  }

  writeTable(table: Table): void {
    for (const b of table.batches) {
      this.writer.write(b);
      this.wrote = true;
    }
  }

  async end(): Promise<void> {
    // An empty result still carries its schema.
    if (!this.wrote) this.writeTable(rowsToArrow(this.schema, []));
    this.writer.finish();
    this.writer.close();
    await this.pumping;
  }
}

export function parquetBytes(schema: TableSchema, rows: readonly Row[]): Uint8Array {
  return writeParquet(schema, rows, { metaColumns: false, compression: 'snappy' });
}
