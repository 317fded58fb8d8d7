import type { KafkaRecordIn } from '../source/record.js';
import type { InvalidRecord } from '../debezium/invalid-record.js';
import type { Mutation } from '../table/write-plan.js';
import type { TableSchema } from '../table/schema.js';

/**
 * Records that could not become change events (design brief §3.5): never
 * dropped silently. Each becomes a row of the lake's `_cdc_lake._dead_letters`
 * table (keyed by topic/partition/offset, so a replay rewrites the same row) and/or
 * a message on a dead-letter Kafka topic.
 */

export const DEAD_LETTER_TABLE = '_cdc_lake._dead_letters';

export const DEAD_LETTER_SCHEMA: TableSchema = {
  type: 'record',
  name: 'dead_letters',
  namespace: '_cdc_lake',
  fields: [
    { name: 'id', type: ['null', 'string'], default: null },
    { name: 'topic', type: ['null', 'string'], default: null },
    { name: 'partition', type: ['null', 'int'], default: null },
    { name: 'offset', type: ['null', 'long'], default: null },
    { name: 'reason', type: ['null', 'string'], default: null },
    { name: 'message', type: ['null', 'string'], default: null },
    { name: 'table_name', type: ['null', 'string'], default: null },
    { name: 'key', type: ['null', 'bytes'], default: null },
    { name: 'value', type: ['null', 'bytes'], default: null },
    { name: 'received_at_ms', type: ['null', 'long'], default: null },
    { name: '_cdc_position', type: ['null', 'long'], default: null },
  ],
};

export interface DeadLetter {
  error: InvalidRecord;
  record: KafkaRecordIn;
  atMs: number;
}

/** A dead letter as a row of the dead-letter table; its ordering is the Kafka offset. */
export function deadLetterMutation(d: DeadLetter): Mutation {
  const { record, error } = d;
  return {
    kind: 'upsert',
    ordering: record.offset,
    row: {
      id: `${record.topic}:${record.partition}:${record.offset}`,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(record.offset) : record.offset,
      reason: error.reason,
      message: error.message,
      table_name: error.table ?? null,
      key: record.key,
      value: record.value,
      received_at_ms: d.atMs,
      _cdc_position: record.offset <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(record.offset) : record.offset,
    },
  };
}

/** Where dead letters go besides the lake table (e.g. a Kafka topic); the daemon wires one in. */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<void>;
}
