/**
 * One Kafka record as it leaves a source: the decoder's input type. Key and value are
 * the raw bytes (null = Kafka null / tombstone); the offset is a bigint because Kafka
 * offsets are int64.
 */
export interface KafkaRecordIn {
  topic: string;
  partition: number;
  offset: bigint;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers?: Record<string, Uint8Array>;
  /** Record timestamp in epoch milliseconds, when the source knows it. */
  timestamp?: number;
}

/** A split is one topic-partition, written `topic:partition` (Kafka topic names are [a-zA-Z0-9._-], so ':' is free as a separator). */
export type SplitId = string;

export interface Split {
  topic: string;
  partition: number;
}

export function splitId(topic: string, partition: number): SplitId {
  return `${topic}:${partition}`;
}

/** Parses `topic:partition`; the partition is after the LAST ':' so odd file-source topic names still round-trip. */
export function parseSplitId(id: SplitId): Split {
  const at = id.lastIndexOf(':');
  const partition = at < 0 ? NaN : Number(id.slice(at + 1));
  if (at <= 0 || !Number.isInteger(partition) || partition < 0) {
    throw new Error(`invalid split id "${id}": expected "<topic>:<partition>" with a non-negative integer partition`);
  }
  return { topic: id.slice(0, at), partition };
}

/** Records of one split, in offset order. `nextOffset` = last record's offset + 1 (or the position reached). */
export interface RecordBatch {
  split: SplitId;
  records: KafkaRecordIn[];
  nextOffset: bigint;
}
