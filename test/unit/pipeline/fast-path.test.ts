// The schemaless fast path changes nothing a reader sees: a generated stream of changes
// (inserts, updates, deletes, snapshot reads, TOASTed columns, a new column, a column of
// JSON, a truncate, bad records, transaction metadata) ingested with the fast path and
// without it gives the same tables, change for change.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { lakeStore } from '../../../src/pipeline/lake.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { splitId, type KafkaRecordIn } from '../../../src/source/record.js';
import { readChanges, readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { silentLogger } from '../../support/column-ordered.js';
import { tempDir } from '../../support/temp.js';
import { seededRandom } from '../../support/random.js';


const TABLES = ['customers', 'orders'] as const;

/** Batches of records on two topics (two partitions each): `orders` is partitioned by region in the config. */
function stream(seed: number): KafkaRecordIn[][] {
  const r = seededRandom(seed);
  const chance = (p: number): boolean => r() < p;
  const offsets = new Map<string, bigint>();
  let lsn = 1000;
  let tx = 500;
  const batches: KafkaRecordIn[][] = [];
  for (let batch = 0; batch < 4; batch++) {
    const records: KafkaRecordIn[] = [];
    for (let i = 0; i < 250; i++) {
      const table = chance(0.7) ? TABLES[0] : TABLES[1];
      const partition = chance(0.5) ? 0 : 1;
      const topic = `shop.public.${table}`;
      const split = `${topic}/${partition}`;
      const offset = offsets.get(split) ?? 0n;
      offsets.set(split, offset + 1n);
      const id = Math.floor(r() * 40);
      lsn += 1 + Math.floor(r() * 50);
      if (chance(0.15)) tx++;
      const op = batch === 3 && i === 120 && table === 'customers' ? 't' : chance(0.1) ? 'd' : chance(0.05) ? 'r' : chance(0.3) ? 'c' : 'u';
      const after: Record<string, unknown> = { id, name: `n${Math.floor(r() * 1000)}`, score: chance(0.5) ? Math.floor(r() * 100) / 4 : Math.floor(r() * 10), active: chance(0.5), note: chance(0.1) ? '__debezium_unavailable_value' : chance(0.05) ? null : `note ${i}`, region: chance(0.5) ? 'eu' : 'us' };
      if (batch >= 2) after['tier'] = chance(0.5) ? 'gold' : null; // a new column
      if (batch === 1 && chance(0.05)) after['name'] = 'caf\u00e9 "quoted"'; // text the general path decodes
      if (batch === 3 && table === 'orders' && chance(0.3)) after['meta'] = { a: 1 }; // a JSON column: general path from here on
      const source = { version: '3.1.3.Final', connector: 'postgresql', name: 'shop', ts_ms: 1749650530000 + lsn, snapshot: op === 'r' ? 'true' : 'false', db: 'shop', schema: 'public', table, txId: tx, lsn, sequence: `[null,"${lsn}"]`, xmin: null };
      const value = op === 't' ? { before: null, after: null, source, op, ts_ms: 1 } : { before: op === 'd' ? { id, region: after['region'] } : null, after: op === 'd' ? null : after, source, op, ts_ms: 1749650530100 + lsn };
      let bytes = Buffer.from(JSON.stringify(value));
      if (chance(0.01)) bytes = bytes.subarray(0, bytes.length - 2); // a bad record: a dead letter
      records.push({ topic, partition, offset, key: op === 't' ? null : Buffer.from(JSON.stringify({ id })), value: bytes });
    }
    batches.push(records);
  }
  return batches;
}

/** The record as JsonConverter with schemas sends it: the Connect schema of the row's columns (a new column, a map column) beside each payload. */
function withSchema(rec: KafkaRecordIn): KafkaRecordIn {
  const table = rec.topic.split('.').pop() as string;
  let after: Record<string, unknown> | null = null;
  try {
    after = rec.value === null ? null : (JSON.parse(Buffer.from(rec.value).toString()) as { after: Record<string, unknown> | null }).after;
  } catch {
    // a bad record stays bad inside its envelope
  }
  const types: Record<string, object> = {
    id: { type: 'int32', optional: false }, name: { type: 'string', optional: true }, score: { type: 'double', optional: true },
    active: { type: 'boolean', optional: true }, note: { type: 'string', optional: true }, region: { type: 'string', optional: true },
    tier: { type: 'string', optional: true }, meta: { type: 'map', keys: { type: 'string' }, values: { type: 'int32' }, optional: true },
  };
  const columns = Object.keys(after ?? { id: 0, name: '', score: 0, active: false, note: '', region: '' });
  const row = { type: 'struct', optional: true, name: `shop.public.${table}.Value`, fields: columns.map((c) => ({ ...types[c], field: c })) };
  const envelope = { type: 'struct', optional: false, name: `shop.public.${table}.Envelope`, fields: [{ ...row, field: 'before' }, { ...row, field: 'after' }, { type: 'struct', optional: false, field: 'source', fields: [] }, { type: 'string', optional: false, field: 'op' }, { type: 'int64', optional: true, field: 'ts_ms' }] };
  const key = { type: 'struct', optional: false, name: `shop.public.${table}.Key`, fields: [{ type: 'int32', optional: false, field: 'id' }] };
  const wrap = (schema: unknown, payload: Uint8Array | null): Buffer | null => (payload === null ? null : Buffer.from(`{"schema":${JSON.stringify(schema)},"payload":${Buffer.from(payload).toString()}}`));
  return { ...rec, key: wrap(key, rec.key), value: wrap(envelope, rec.value) };
}

async function ingest(dir: string, batches: KafkaRecordIn[][], fastPath: boolean): Promise<Pipeline> {
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, log: { level: 'silent' }, source: { fastPath }, deadLetters: { table: false }, tables: { overrides: { 'public.orders': { partitionField: 'region' } } } }, {});
  const pipeline = new Pipeline({ store: lakeStore(config.lake), config, logger: silentLogger });
  for (const records of batches) {
    for (const split of new Set(records.map((rec) => `${rec.topic}\u0000${rec.partition}`))) {
      const [topic, partition] = split.split('\u0000') as [string, string];
      const part = records.filter((rec) => rec.topic === topic && rec.partition === Number(partition));
      await pipeline.consume({ split: splitId(topic, Number(partition)), records: part, nextOffset: (part.at(-1) as KafkaRecordIn).offset + 1n });
    }
    await pipeline.flushAll();
  }
  return pipeline;
}

/** Every change and the snapshot of a table, CDC columns included, without what names instants and files. */
async function contents(dir: string, table: string): Promise<unknown> {
  const t = await HudiTable.open(lakeStore({ uri: join(dir, 'lake'), s3: { pathStyle: false } } as never), `public/${table}`);
  const named = new Set(['_hoodie_commit_time', '_hoodie_commit_seqno', '_hoodie_file_name']);
  const json = (v: unknown): string => JSON.stringify(v, (k, x: unknown) => (named.has(k) ? undefined : typeof x === 'bigint' ? String(x) : x));
  const { changes } = await readChanges(t, { since: '00000000000000000', meta: true });
  return {
    changes: changes.map((c) => json([c.op, c.key, c.row])).sort(),
    snapshot: (await readSnapshot(t, { meta: true })).rows.map(json).sort(),
  };
}

for (const [flavour, seed] of [['schemaless', 7], ['schemaless', 8], ['with schema', 9]] as const) {
  test(`the same tables with the fast path and without it (${flavour}, seed ${seed})`, async () => {
    const batches = flavour === 'schemaless' ? stream(seed) : stream(seed).map((records) => records.map(withSchema));
    const [fastDir, slowDir] = [await tempDir('cdc-lake-fast-'), await tempDir('cdc-lake-slow-')];
    const fast = await ingest(fastDir, batches, true);
    const slow = await ingest(slowDir, batches, false);
    assert.equal(slow.summary.fastPath, 0);
    assert.ok(fast.summary.fastPath > 200, `the fast path read ${fast.summary.fastPath} records`);
    assert.deepEqual({ ...fast.summary, fastPath: 0 }, slow.summary);
    for (const table of TABLES) assert.deepEqual(await contents(fastDir, table), await contents(slowDir, table), table);
  });
}

test('a change weighs its payload in the buffer, not the Connect schema beside it, by either path', async () => {
  const insert = (r: KafkaRecordIn): boolean => {
    try {
      return r.topic.endsWith('customers') && r.value !== null && (JSON.parse(Buffer.from(r.value).toString()) as { op?: string }).op === 'c';
    } catch {
      return false;
    }
  };
  const [record] = (stream(11)[0] ?? []).filter(insert);
  assert.ok(record?.value);
  const enveloped = withSchema(record);
  for (const fastPath of [true, false]) {
    const config = parseConfig({ lake: { uri: join(await tempDir('cdc-lake-size-'), 'lake') }, log: { level: 'silent' }, source: { fastPath } }, {});
    const pipeline = new Pipeline({ store: lakeStore(config.lake), config, logger: silentLogger });
    // the first record teaches the fast path the shape; the second is read by it (when on)
    for (const offset of [0n, 1n]) await pipeline.consume({ split: splitId(record.topic, 0), records: [{ ...enveloped, partition: 0, offset }], nextOffset: offset + 1n });
    assert.deepEqual(pipeline.bufferState().map((b) => b.bytes), [record.value.length], `fast path ${fastPath}`);
    assert.equal(pipeline.summary.fastPath, fastPath ? 1 : 0);
  }
});
