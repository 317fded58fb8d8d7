import type { RecordOrigin } from './change-event.js';

/** Machine-readable reasons a record is rejected; each maps to one dead-letter cause. */
export type InvalidReason =
  | 'malformed-json'
  | 'not-an-object'
  | 'empty-value'
  | 'unknown-format'
  | 'truncated-avro'
  | 'bad-avro'
  | 'unknown-schema-id'
  | 'schema-not-resolved'
  | 'bad-schema'
  | 'missing-op'
  | 'unknown-op'
  | 'missing-source'
  | 'missing-after'
  | 'missing-before'
  | 'missing-payload'
  | 'missing-table'
  | 'missing-position'
  | 'bad-position'
  | 'unknown-semantic-type'
  | 'type-mismatch'
  | 'no-primary-key'
  | 'bad-key'
  | 'bad-transaction'
  | 'incompatible-schema-change'
  /** A table ordered by a column (`tables.overrides.<t>.ordering`) got a change without a usable value in it. */
  | 'no-ordering-value';

/**
 * A Kafka record that cannot become a change event. Never thrown by the decoder: it is
 * returned as `{kind: 'invalid'}` so the pipeline can dead-letter it and keep going.
 */
export class InvalidRecord extends Error {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  constructor(
    origin: RecordOrigin,
    readonly reason: InvalidReason,
    detail: string,
    /** The table the record belongs to, when known (the pipeline quarantines it on schema conflicts). */
    readonly table?: string,
  ) {
    super(`${origin.topic}[${origin.partition}]@${origin.offset}: ${reason}: ${detail}`);
    this.name = 'InvalidRecord';
    this.topic = origin.topic;
    this.partition = origin.partition;
    this.offset = origin.offset;
  }
}

/** Raised inside converters; turned into an InvalidRecord at the decoder boundary. */
export class DecodeFailure extends Error {
  constructor(
    readonly reason: InvalidReason,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeFailure';
  }
}

export function fail(reason: InvalidReason, message: string): never {
  throw new DecodeFailure(reason, message);
}
