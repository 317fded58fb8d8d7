export {
  createWriter,
  writeOutput,
  parseOutputFormat,
  defaultOutputFormat,
  OUTPUT_FORMATS,
  OutputFormatError,
  type OutputFormat,
  type OutputWriter,
  type OutputOptions,
  type OutputInput,
} from './writer.js';
export { formatValueJson, formatValueText, formatDate, formatTime, formatTimestamp, formatDecimal, formatFloat32, valueKind, compileJson, compileText, type ValueKind } from './value-text.js';
export { streamSink, stdoutSink, fileSink, memorySink, OutputError, type ByteSink } from './sink.js';
export { renderTable, type TableTextOptions } from './table.js';
export { csvField } from './csv.js';
