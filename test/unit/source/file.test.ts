import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource, type FileProgress } from '../../../src/source/file.js';
import { parseLine, parseLineFast, skipJsonValue } from '../../../src/source/line.js';
import type { KafkaRecordIn, RecordBatch, SplitId } from '../../../src/source/record.js';
import { SourceError } from '../../../src/source/source.js';
import { tempDirSync } from '../../support/temp.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array | null): string | null => (b === null ? null : dec.decode(b));

function tmpFile(content: string): string {
  const dir = tempDirSync('filesrc-');
  const p = join(dir, 'in.jsonl');
  writeFileSync(p, content);
  return p;
}

async function readAll(src: FileSource, starts: Map<SplitId, bigint> = new Map()): Promise<{ batches: RecordBatch[]; assigned: SplitId[] }> {
  const assigned: SplitId[] = [];
  await src.open({
    onAssigned: async (splits) => {
      assigned.push(...splits);
      return new Map([...starts].filter(([k]) => splits.includes(k)));
    },
    onRevoked: async () => {},
  });
  const batches: RecordBatch[] = [];
  for await (const b of src.batches()) batches.push(b);
  return { batches, assigned };
}

const line = (topic: string, partition: number, offset: number | string, key: string, value: string): string =>
  `{"topic":"${topic}","partition":${partition},"offset":${offset},"key":${key},"value":${value}}`;

test('fast path slices key and value text verbatim, int64 digits intact', () => {
  const l = line('db.public.t', 3, '9223372036854775806', '{"id":12345678901234567890}', '{"a":"x,}]\\"y","n":1.50,"arr":[1,{"b":null}]}');
  const b = enc.encode(l);
  const r = parseLineFast(b, 0, b.length);
  assert.ok(r, 'fast path must accept the usual key order');
  assert.equal(r.topic, 'db.public.t');
  assert.equal(r.partition, 3);
  assert.equal(r.offset, 9223372036854775806n);
  assert.equal(text(r.key), '{"id":12345678901234567890}');
  assert.equal(text(r.value), '{"a":"x,}]\\"y","n":1.50,"arr":[1,{"b":null}]}');
});

test('null key/value become Kafka nulls (tombstone)', () => {
  const b = enc.encode(line('t', 0, 7, 'null', 'null'));
  const r = parseLine(b, 0, b.length);
  assert.equal(r.key, null);
  assert.equal(r.value, null);
});

test('other key orders and extra fields fall back to a lossless parse with the same bytes', () => {
  const l = '{"value": {"id": 12345678901234567890, "s": "é"}, "offset": 5, "key": {"id": 1}, "partition": 0, "topic": "t", "timestamp": 1700000000000, "headers": {"h": "v"}}';
  const b = enc.encode(l);
  assert.equal(parseLineFast(b, 0, b.length), undefined);
  const r = parseLine(b, 0, b.length);
  assert.equal(r.offset, 5n);
  assert.equal(text(r.value), '{"id":12345678901234567890,"s":"é"}');
  assert.equal(text(r.key), '{"id":1}');
  assert.equal(r.timestamp, 1700000000000);
  assert.equal(text(r.headers?.h ?? null), 'v');
});

test('kcat -J lines: key and payload are the raw strings', () => {
  const l = '{"topic":"t","partition":1,"offset":42,"tstype":"create","ts":1700000000123,"broker":1,"headers":["a","b"],"key":"{\\"id\\":1}","payload":"{\\"after\\":{\\"id\\":1}}"}';
  const b = enc.encode(l);
  const r = parseLine(b, 0, b.length);
  assert.equal(r.partition, 1);
  assert.equal(r.offset, 42n);
  assert.equal(r.timestamp, 1700000000123);
  assert.equal(text(r.key), '{"id":1}');
  assert.equal(text(r.value), '{"after":{"id":1}}');
  assert.equal(text(r.headers?.a ?? null), 'b');
  const tomb = enc.encode('{"topic":"t","partition":1,"offset":43,"tstype":"create","ts":1,"broker":1,"key":"{\\"id\\":1}","payload":null}');
  assert.equal(parseLine(tomb, 0, tomb.length).value, null);
});

test('skipJsonValue finds value ends, rejects unterminated ones', () => {
  const b = enc.encode('{"a":[1,2,"]"]},');
  assert.equal(skipJsonValue(b, 0, b.length), b.length - 1);
  const u = enc.encode('{"a":"x');
  assert.equal(skipJsonValue(u, 0, u.length), -1);
  const n = enc.encode('-1.5e3}');
  assert.equal(skipJsonValue(n, 0, n.length), 6);
});

test('FileSource: one split per batch, offset order, interleaved partitions grouped, progress reported', async () => {
  const lines: string[] = [];
  for (let o = 0; o < 50; o++) for (let p = 0; p < 3; p++) lines.push(line('t', p, o, `{"id":${o}}`, `{"v":${o * 10 + p}}`));
  const path = tmpFile(lines.join('\r\n') + '\n\n');
  const progress: FileProgress[] = [];
  const src = new FileSource(path, { batchSize: 20, chunkBytes: 512, onProgress: (p) => progress.push(p) });
  const { batches, assigned } = await readAll(src);
  assert.deepEqual(assigned.sort(), ['t:0', 't:1', 't:2']);
  const per = new Map<SplitId, bigint[]>();
  for (const b of batches) {
    assert.ok(b.records.length > 0 && b.records.length <= 20);
    for (const r of b.records) assert.equal(`${r.topic}:${r.partition}`, b.split);
    assert.equal(b.nextOffset, (b.records.at(-1) as KafkaRecordIn).offset + 1n);
    per.set(b.split, [...(per.get(b.split) ?? []), ...b.records.map((r) => r.offset)]);
  }
  for (const p of [0, 1, 2]) assert.deepEqual(per.get(`t:${p}`), Array.from({ length: 50 }, (_, i) => BigInt(i)));
  assert.ok(progress.length > 3, 'progress is reported per chunk');
  const last = progress.at(-1) as FileProgress;
  assert.equal(last.bytesRead, last.totalBytes);
});

test('FileSource honours start positions and skips duplicate lines (idempotent re-run)', async () => {
  const lines = [0, 1, 2, 3, 1, 4].map((o) => line('t', 0, o, 'null', `{"o":${o}}`));
  lines.push(line('u', 0, 0, 'null', '{}'));
  const path = tmpFile(lines.join('\n'));
  const src = new FileSource(path);
  const { batches } = await readAll(src, new Map([['t:0', 2n]]));
  assert.equal(src.skippedRecords(), 3, 'offsets 0, 1 and the duplicate 1');
  const t = batches.filter((b) => b.split === 't:0').flatMap((b) => b.records.map((r) => r.offset));
  assert.deepEqual(t, [2n, 3n, 4n]);
  const u = batches.filter((b) => b.split === 'u:0').flatMap((b) => b.records.map((r) => r.offset));
  assert.deepEqual(u, [0n], 'a split without a start position starts at the beginning (last line without newline)');
});

test('FileSource: an invalid line fails naming file and line, or goes to onInvalidLine', async () => {
  const path = tmpFile([line('t', 0, 0, 'null', '{}'), '{"topic":"t","partition":0}', line('t', 0, 1, 'null', '{}')].join('\n') + '\n');
  await assert.rejects(readAll(new FileSource(path)), (e: unknown) => e instanceof SourceError && e.message.includes(path) && e.message.includes('line 2'));
  const bad: number[] = [];
  const { batches } = await readAll(new FileSource(path, { onInvalidLine: (l) => bad.push(l.line) }));
  assert.deepEqual(bad, [2]);
  assert.equal(batches.flatMap((b) => b.records).length, 2);
});

test('FileSource: a paused split holds delivery until resumed', async () => {
  const path = tmpFile([0, 1, 2].map((o) => line('t', 0, o, 'null', '{}')).join('\n') + '\n');
  const src = new FileSource(path, { batchSize: 1 });
  await src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} });
  const it = src.batches()[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.done, false);
  src.pause(['t:0']);
  let got = false;
  const p = it.next().then((r) => {
    got = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(got, false, 'no batch while paused');
  src.resume(['t:0']);
  const second = await p;
  assert.equal(second.done, false);
  await src.close();
});

test('FileSource: a missing file fails at open with the path', async () => {
  const src = new FileSource('/nonexistent/x.jsonl');
  await assert.rejects(src.open({ onAssigned: async () => new Map(), onRevoked: async () => {} }), /nonexistent\/x\.jsonl/);
});
