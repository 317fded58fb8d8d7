import { nonNull, type AvroType, type Value } from './schema.js';

/**
 * Partition paths of a field-partitioned table, hive style (`field=value`), as
 * Hudi's SimpleKeyGenerator writes them with hive-style partitioning on and URL
 * encoding off. A non-partitioned table has the single partition "".
 */

const DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

function isoDate(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** The text a partition value takes in the path; dates as `YYYY-MM-DD` so folders read naturally. */
export function partitionValueText(value: Value | undefined, type: AvroType): string {
  if (value === null || value === undefined || value === '') return DEFAULT_PARTITION;
  const t = nonNull(type);
  if (typeof t === 'object' && !Array.isArray(t) && 'logicalType' in t && t.logicalType === 'date' && typeof value === 'number') {
    return isoDate(value);
  }
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A path separator or parent reference in a value must never escape the table folder.
  return text.replace(/[/\\]/g, '_').replace(/^\.\.?$/, '_');
}

export function partitionPath(field: string | undefined, value: Value | undefined, type: AvroType | undefined): string {
  if (field === undefined || type === undefined) return '';
  return `${field}=${partitionValueText(value, type)}`;
}
