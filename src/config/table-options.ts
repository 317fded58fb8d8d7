import type { Config, TableOptions } from './schema.js';

/** The effective options of one table (`schema.table`): its override merged over the defaults. */
export function tableOptions(config: Pick<Config, 'tables'>, table: string): TableOptions {
  const d = config.tables.defaults;
  const o = config.tables.overrides[table];
  if (!o) return d;
  return {
    recordKey: o.recordKey ?? d.recordKey,
    partitionField: o.partitionField ?? d.partitionField,
    buckets: o.buckets ?? d.buckets,
    compaction: {
      everyDeltaCommits: o.compaction?.everyDeltaCommits ?? d.compaction.everyDeltaCommits,
      logToBaseRatio: o.compaction?.logToBaseRatio ?? d.compaction.logToBaseRatio,
      maxBytesPerRun: o.compaction?.maxBytesPerRun ?? d.compaction.maxBytesPerRun,
    },
    retention: { commits: o.retention?.commits ?? d.retention.commits },
    ...(o.ordering === undefined ? {} : { ordering: o.ordering }),
  };
}
