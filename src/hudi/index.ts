/** Hudi v6 byte formats: pure codecs over strings and bytes (no storage I/O). */
export * from './properties.js';
export * from './partition-metadata.js';
export * from './instant.js';
export * from './file-name.js';
export * from './log-block.js';
export * from './commit-metadata.js';
export * from './timeline-avro.js';
export { avroType, decimalToBytes, bytesToDecimal, DecimalError } from './avro-value.js';
export { loadHudiSchema } from './schemas.js';
