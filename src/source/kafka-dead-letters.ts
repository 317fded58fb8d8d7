import { Producer } from '@platformatic/kafka';
import type { DeadLetter, DeadLetterSink } from '../pipeline/dead-letters.js';
import { permanentKafkaProblem } from './kafka.js';
import { clientOptions, type KafkaConnection } from './kafka-connection.js';

/** Dead letters the topic did not take; an outage when the brokers were unreachable or failing rather than refusing. */
export class DeadLetterTopicError extends Error {
  constructor(
    readonly topic: string,
    readonly outage: boolean,
    cause: unknown,
  ) {
    const problem = permanentKafkaProblem(cause);
    super(`sending dead letters to Kafka topic ${topic} failed: ${cause instanceof Error ? cause.message : String(cause)}${problem === undefined ? '' : `; ${problem}`}`, { cause });
    this.name = 'DeadLetterTopicError';
  }
}

/**
 * Dead letters to a Kafka topic: the original key and value, with headers that
 * say where the record came from and why it was rejected (topic, partition,
 * offset, reason, message), so a repair job can replay it.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;

  /** `connection`: the source's brokers, TLS and SASL (a secured cluster admits both the same way). */
  constructor(
    private readonly topic: string,
    connection: KafkaConnection,
  ) {
    this.producer = new Producer({ ...clientOptions(connection, 'cdc-lake-dead-letters'), autocreateTopics: true });
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const h = (k: string, v: string): [Buffer, Buffer] => [Buffer.from(k), Buffer.from(v)];
    const messages = letters.map((l) => ({
      topic: this.topic,
      ...(l.record.key === null ? {} : { key: Buffer.from(l.record.key) }),
      ...(l.record.value === null ? {} : { value: Buffer.from(l.record.value) }),
      headers: new Map([
        h('cdc-lake.topic', l.record.topic),
        h('cdc-lake.partition', String(l.record.partition)),
        h('cdc-lake.offset', String(l.record.offset)),
        h('cdc-lake.reason', l.error.reason),
        h('cdc-lake.message', l.error.message),
      ]),
    }));
    try {
      await this.producer.send({ messages });
    } catch (e) {
      throw new DeadLetterTopicError(this.topic, permanentKafkaProblem(e) === undefined, e);
    }
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
