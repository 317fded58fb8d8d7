// Freshness (issue 5): a batch's age counts from its oldest record's produce time (capped
// so a catching-up consumer still batches), and the flush timer is armed for the moment
// the first batch comes due rather than the next fixed tick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { BufferSet } from '../../../src/pipeline/buffer.js';
import { lakeStore } from '../../../src/pipeline/lake.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { ChangeEvent } from '../../../src/debezium/change-event.js';
import { tempDir } from '../../support/temp.js';

const schema = { type: 'record' as const, name: 't', fields: [] };
const ev = (table: string, offset: bigint): ChangeEvent => ({
  table, op: 'c', key: { id: Number(offset) }, row: { id: Number(offset) }, position: { ordering: offset, text: '' },
  sourceTsMs: null, txId: null, schema, keyFields: ['id'], unavailable: [], origin: { topic: table, partition: 0, offset },
});

test('nextDueInMs: time left until the oldest batch reaches its age', () => {
  const b = new BufferSet({ maxRows: 100, maxBytes: 1 << 20, maxAgeMs: 1000, memoryBudgetBytes: 1 << 22 });
  assert.equal(b.nextDueInMs(0), Infinity);
  b.add(ev('s.a', 0n), 1, 100);
  b.add(ev('s.b', 0n), 1, 400);
  assert.equal(b.nextDueInMs(500), 600);
  assert.equal(b.nextDueInMs(1300), -200);
});

test('a batch is as old as its oldest record was when produced, but keeps half the flush age when the record is older', async () => {
  const now = 1_000_000;
  const config = parseConfig({ lake: { uri: await tempDir('cdc-lake-fresh-') }, buffer: { maxAgeMs: 4000 }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const pipeline = new Pipeline({ store: lakeStore(config.lake), config, logger, now: () => now });
  const record = (table: string, ts: number) => {
    const value = { before: null, after: { id: 1 }, source: { connector: 'postgresql', name: 'x', db: 'd', schema: 's', table, lsn: 8, sequence: '[null,"8"]', txId: 1, ts_ms: ts }, op: 'c', ts_ms: ts };
    return { topic: `x.s.${table}`, partition: 0, offset: 0n, key: Buffer.from('{"id":1}'), value: Buffer.from(JSON.stringify(value)), timestamp: ts };
  };
  await pipeline.consume({ split: 'x.s.a:0', records: [record('a', now - 1500)], nextOffset: 1n });
  await pipeline.consume({ split: 'x.s.b:0', records: [record('b', now - 60_000)], nextOffset: 1n });
  const opened = Object.fromEntries(pipeline.bufferState().map((b) => [b.table, now - b.openedAtMs]));
  assert.deepEqual(opened, { 's.a': 1500, 's.b': 2000 });
});
