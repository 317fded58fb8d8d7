/** `.hoodie_partition_metadata`: marks a folder as a partition for Java readers. */
import { PropertiesError, parseProperties, renderProperties } from './properties.js';

export const PARTITION_METADATA_FILE = '.hoodie_partition_metadata';

export interface PartitionMetadata {
  /** Instant that first wrote the partition. */
  commitTime: string;
  /** Number of path segments of the partition path (0 for the base path of a non-partitioned table). */
  partitionDepth: number;
}

export function partitionDepth(partitionPath: string): number {
  return partitionPath === '' ? 0 : partitionPath.split('/').length;
}

export function renderPartitionMetadata(m: PartitionMetadata, date: Date = new Date()): string {
  return renderProperties(
    new Map([
      ['commitTime', m.commitTime],
      ['partitionDepth', String(m.partitionDepth)],
    ]),
    { comments: ['partition metadata'], date },
  );
}

export function parsePartitionMetadata(text: string, source = PARTITION_METADATA_FILE): PartitionMetadata {
  const p = parseProperties(text, source);
  const commitTime = p.get('commitTime');
  const depth = p.get('partitionDepth');
  if (commitTime === undefined || depth === undefined || !/^\d+$/.test(depth)) {
    throw new PropertiesError(`${source}: needs commitTime and a numeric partitionDepth; rewrite the file`);
  }
  return { commitTime, partitionDepth: Number(depth) };
}
