/**
 * Arrow IPC stream and Parquet output. The row → Arrow conversion is the table
 * layer's (`src/table/parquet.ts`: `rowsToArrow`, `writeParquet`), so query
 * output uses exactly the Arrow types of our base files: Timestamp(UTC) for
 * timestamps, Decimal128 for decimals, Date32, Time32/64, List, Struct.
 */
import {
  Field,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  TimeNanosecond,
  TimestampNanosecond,
  tableToIPC,
  type DataType,
} from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { rowsToArrow } from '../../table/parquet.js';
import { nonNull, type Row, type TableSchema } from '../../table/schema.js';
import type { ByteSink } from './sink.js';

/**
 * Nanosecond columns are plain int64 in base files (Avro has no nanosecond
 * logical type); for query output they become Timestamp(ns, UTC) and Time64(ns)
 * so pandas/polars/DuckDB see times, not numbers. Same buffers, new type.
 */
function nanoType(schema: TableSchema, name: string): DataType | undefined {
  const f = schema.fields.find((x) => x.name === name);
  if (!f) return undefined;
  let t;
  try {
    t = nonNull(f.type);
  } catch {
    return undefined;
  }
  const semantic = typeof t === 'object' && !Array.isArray(t) ? (t as { 'cdc.semantic'?: string })['cdc.semantic'] : undefined;
  if (semantic === 'nano-timestamp') return new TimestampNanosecond('UTC');
  if (semantic === 'nano-time') return new TimeNanosecond();
  return undefined;
}

export function toQueryArrow(schema: TableSchema, table: Table): Table {
  const retyped = table.schema.fields.map((f) => nanoType(schema, f.name));
  if (retyped.every((t) => t === undefined)) return table;
  const fields = table.schema.fields.map((f, i) => (retyped[i] ? new Field(f.name, retyped[i], f.nullable, f.metadata) : f));
  const outSchema = new Schema(fields, table.schema.metadata);
  const batches = table.batches.map((b) => {
    const children = b.data.children.map((d, i) => {
      const type = retyped[i];
      return type ? makeData({ type: type as never, offset: d.offset, length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap, data: d.values as never }) : d;
    });
    return new RecordBatch(outSchema, makeData({ type: new Struct(fields), length: b.numRows, nullCount: 0, children }));
  });
  return new Table(outSchema, batches);
}

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
    this.writeTable(toQueryArrow(this.schema, rowsToArrow(this.schema, rows)));
  }

  writeTable(table: Table): void {
    for (const b of table.batches) {
      this.writer.write(b);
      this.wrote = true;
    }
  }

  async end(): Promise<void> {
    // An empty result still carries its schema.
    if (!this.wrote) this.writeRows([]);
    this.writer.finish();
    this.writer.close();
    await this.pumping;
  }
}

/**
 * Streams a Parquet file: each chunk of rows becomes Arrow record batches fed to
 * parquet-wasm's stream writer, which emits a row group at a time, so memory is
 * bounded by the row-group size rather than the result size.
 */
export class ParquetStreamOutput {
  private controller!: ReadableStreamDefaultController<pq.RecordBatch>;
  private pulled: (() => void) | undefined;
  private readonly pumping: Promise<void>;
  private wrote = false;

  constructor(
    private readonly schema: TableSchema,
    private readonly sink: ByteSink,
    opts: { rowGroupSize?: number } = {},
  ) {
    const input = new ReadableStream<pq.RecordBatch>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => {
          this.pulled?.();
          this.pulled = undefined;
        },
      },
      { highWaterMark: 4 },
    );
    const props = new pq.WriterPropertiesBuilder()
      .setCompression(pq.Compression.SNAPPY)
      // Spark and Hive read the Avro schema from here (exact types such as decimal precision).
      .setKeyValueMetadata(new Map([['parquet.avro.schema', JSON.stringify(schema)]]))
      .setMaxRowGroupSize(opts.rowGroupSize ?? 128 * 1024)
      .build();
    this.pumping = this.pump(input, props);
    // Surface a writer failure at end(), not as an unhandled rejection.
    this.pumping.catch(() => undefined);
  }

  private async pump(input: ReadableStream<pq.RecordBatch>, props: pq.WriterProperties): Promise<void> {
    const out = await pq.transformParquetStream(input, props);
    for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) await this.sink.write(chunk);
  }

  async writeTable(table: Table): Promise<void> {
    if (table.numRows === 0 && this.wrote) return;
    const wasm = pq.Table.fromIPCStream(tableToIPC(table, 'stream'));
    for (const b of wasm.recordBatches()) {
      this.controller.enqueue(b);
      this.wrote = true;
      if ((this.controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (this.pulled = r));
    }
  }

  writeRows(rows: readonly Row[]): Promise<void> {
    return this.writeTable(toQueryArrow(this.schema, rowsToArrow(this.schema, rows)));
  }

  async end(): Promise<void> {
    if (!this.wrote) await this.writeRows([]);
    this.controller.close();
    await this.pumping;
  }
}
