/** Loads shared/fixtures/debezium (beside the clone) as Kafka records, keeping int64 digits exact. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'lossless-json';
import type { KafkaRecordIn } from '../../../src/debezium/decoded.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, '..', '..', '..', '..', 'shared', 'fixtures', 'debezium');

export function fixturePath(name: string): string {
  return join(FIXTURES, name);
}

function bytes(v: unknown): Uint8Array | null {
  if (v === null || v === undefined) return null;
  return Buffer.from(stringify(v) as string);
}

interface RawRecord {
  topic: string;
  partition?: unknown;
  offset?: unknown;
  key: unknown;
  value: unknown;
}

function toRecord(r: RawRecord, i: number): KafkaRecordIn {
  return {
    topic: r.topic,
    partition: r.partition === undefined ? 0 : Number(String(r.partition)),
    offset: r.offset === undefined ? BigInt(i) : BigInt(String(r.offset)),
    key: bytes(r.key),
    value: bytes(r.value),
  };
}

/** Records of a `.json` (one) or `.jsonl` (many) fixture. */
export function loadRecords(name: string): KafkaRecordIn[] {
  const text = readFileSync(fixturePath(name), 'utf8');
  if (name.endsWith('.jsonl')) {
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l, i) => toRecord(parse(l) as RawRecord, i));
  }
  return [toRecord(parse(text) as RawRecord, 0)];
}

export function loadJson<T>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as T;
}
