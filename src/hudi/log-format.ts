/** Constants of the Hudi log file format (log format version 1, block content version 3). */

export const MAGIC = new Uint8Array([0x23, 0x48, 0x55, 0x44, 0x49, 0x23]); // "#HUDI#"
export const LOG_FORMAT_VERSION = 1;
/** Avro data and delete block content version; hudi-rs accepts only 3. */
export const BLOCK_CONTENT_VERSION = 3;

/** Block types by ordinal (`HoodieLogBlockType`). */
export const BLOCK_TYPES = ['COMMAND', 'DELETE', 'CORRUPT', 'AVRO_DATA', 'HFILE_DATA', 'PARQUET_DATA', 'CDC_DATA'] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

/** Header/footer keys by ordinal (`HeaderMetadataType`). */
export const HEADER_KEYS = [
  'INSTANT_TIME',
  'TARGET_INSTANT_TIME',
  'SCHEMA',
  'COMMAND_BLOCK_TYPE',
  'COMPACTED_BLOCK_TIMES',
  'RECORD_POSITIONS',
  'BLOCK_IDENTIFIER',
  'IS_PARTIAL',
  'BASE_FILE_INSTANT_TIME_OF_RECORD_POSITIONS',
] as const;
export type HeaderKey = (typeof HEADER_KEYS)[number];

/** Header map; key order is kept so decoded blocks re-encode byte for byte. */
export type LogBlockHeaders = Partial<Record<HeaderKey, string>>;

/** `COMMAND_BLOCK_TYPE` value of a rollback command block (ordinal of ROLLBACK_BLOCK, as text). */
export const ROLLBACK_COMMAND = '0';
