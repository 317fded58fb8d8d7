/**
 * Consumer lag (issue 5): how far the tables are behind the topics. Per topic-partition,
 * the high watermark minus the next offset committed to the tables that read it (the
 * lowest, so the slowest table counts), or minus the source's fetch position when no
 * table has committed from it yet. Per table, the sum over its splits. Pure.
 */
import type { SplitId, SplitOffsets } from '../source/source.js';

export interface Lag {
  partitions: Map<SplitId, bigint>;
  tables: Map<string, bigint>;
}

export function consumerLag(ends: ReadonlyMap<SplitId, SplitOffsets>, committed: ReadonlyMap<string, ReadonlyMap<SplitId, bigint>>): Lag {
  const lowest = new Map<SplitId, bigint>();
  for (const splits of committed.values()) {
    for (const [s, next] of splits) {
      const cur = lowest.get(s);
      if (cur === undefined || next < cur) lowest.set(s, next);
    }
  }
  const behind = (end: bigint, next: bigint | undefined): bigint => (next === undefined || next >= end ? 0n : end - next);
  const partitions = new Map<SplitId, bigint>();
  for (const [s, o] of ends) partitions.set(s, behind(o.end, lowest.get(s) ?? o.position ?? o.end));
  const tables = new Map<string, bigint>();
  for (const [table, splits] of committed) {
    let sum = 0n;
    let any = false;
    for (const [s, next] of splits) {
      const o = ends.get(s);
      if (o === undefined) continue; // not assigned here: another replica reports it
      any = true;
      sum += behind(o.end, next);
    }
    if (any) tables.set(table, sum);
  }
  return { partitions, tables };
}
