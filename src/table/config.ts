import { buildTableProperties, parseProperties } from '../hudi/properties.js';

/**
 * A table's typed configuration, read from and written to `hoodie.properties`.
 * The bucket count is kept there too (`hoodie.bucket.index.num.buckets`) so that
 * every writer that opens the table routes keys to the same file groups.
 */
export interface TableConfig {
  tableName: string;
  database: string;
  recordKeyFields: string[];
  /** One field, hive-style `field=value` folders; undefined for a non-partitioned table. */
  partitionField?: string;
  orderingField: string;
  buckets: number;
  tableVersion: number;
  tableType: string;
}

export const PROPERTIES_PATH = '.hoodie/hoodie.properties';
const BUCKETS_KEY = 'hoodie.bucket.index.num.buckets';
export const DEFAULT_BUCKETS = 4;

export class TableConfigError extends Error {
  override readonly name = 'TableConfigError';
}

export function tableProperties(cfg: TableConfig, createSchema?: string): Map<string, string> {
  if (!Number.isSafeInteger(cfg.buckets) || cfg.buckets < 1) {
    throw new TableConfigError(`table ${cfg.database}.${cfg.tableName}: buckets must be a positive integer, got ${cfg.buckets}`);
  }
  const props = buildTableProperties({
    tableName: cfg.tableName,
    database: cfg.database,
    recordKeyFields: cfg.recordKeyFields,
    partitionFields: cfg.partitionField === undefined ? [] : [cfg.partitionField],
    orderingField: cfg.orderingField,
    ...(createSchema === undefined ? {} : { createSchema }),
  });
  // Keep the checksum last, as Java writes it.
  const checksum = props.get('hoodie.table.checksum');
  props.delete('hoodie.table.checksum');
  props.set(BUCKETS_KEY, String(cfg.buckets));
  props.set('hoodie.index.type', 'BUCKET');
  if (checksum !== undefined) props.set('hoodie.table.checksum', checksum);
  return props;
}

function list(value: string | undefined): string[] {
  return value === undefined || value.trim() === '' ? [] : value.split(',').map((s) => s.trim());
}

/** Reads any v6 table's properties, ours or Spark's. */
export function parseTableConfig(text: string, where: string): TableConfig {
  const p = parseProperties(text, where);
  const need = (k: string): string => {
    const v = p.get(k);
    if (v === undefined || v === '') throw new TableConfigError(`${where}: missing ${k}; is this a Hudi table?`);
    return v;
  };
  const partitionFields = list(p.get('hoodie.table.partition.fields'));
  const cfg: TableConfig = {
    tableName: need('hoodie.table.name'),
    database: p.get('hoodie.database.name') ?? '',
    recordKeyFields: list(p.get('hoodie.table.recordkey.fields')),
    orderingField: p.get('hoodie.table.precombine.field') ?? list(p.get('hoodie.table.ordering.fields'))[0] ?? '',
    buckets: Number(p.get(BUCKETS_KEY) ?? DEFAULT_BUCKETS),
    tableVersion: Number(need('hoodie.table.version')),
    tableType: need('hoodie.table.type'),
  };
  if (partitionFields.length > 0) cfg.partitionField = partitionFields.join(',');
  return cfg;
}
