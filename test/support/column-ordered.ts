/**
 * A table ordered by a column (`tables.overrides.public.items.ordering: v`) written through
 * the pipeline in four commits whose source positions disagree with the column: a stale
 * update, a tie, a natural-order delete and a re-insert with a smaller value, a change with
 * no value (a dead letter), and two changes of one key in one batch. Shared by the unit
 * test (our reader) and the interop test (hudi-rs reads the same rows).
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logging.js';
import { lakeStore } from '../../src/pipeline/lake.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { splitId, type KafkaRecordIn } from '../../src/source/record.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export const ITEMS = 'public.items';
const TOPIC = 'shop.public.items';

let offset = 0n;

/** A schemaless Debezium change of public.items at PostgreSQL LSN `lsn`. */
function change(op: 'c' | 'u' | 'd', id: number, lsn: number, after: { v: number | null; name: string } | null): KafkaRecordIn {
  const source = { version: '3.1.3.Final', connector: 'postgresql', name: 'shop', ts_ms: 1749650530000 + lsn, snapshot: 'false', db: 'shop', schema: 'public', table: 'items', txId: 700 + lsn, lsn, xmin: null };
  const value = { before: op === 'd' ? { id, v: 0, name: null } : null, after: after === null ? null : { id, ...after }, source, transaction: null, op, ts_ms: 1749650530100 + lsn };
  return { topic: TOPIC, partition: 0, offset: offset++, key: Buffer.from(JSON.stringify({ id })), value: Buffer.from(JSON.stringify(value)), timestamp: 1749650530100 + lsn };
}

/** The commits, in source (LSN) order; the comments say what the column decides. */
export const COMMITS: KafkaRecordIn[][] = [
  [
    change('c', 1, 100, { v: 5, name: 'a' }),
    change('c', 2, 110, { v: 1, name: 'b' }),
    change('c', 3, 120, { v: 3, name: 'c' }),
    change('c', 5, 130, { v: 1, name: 'e' }),
    change('c', 6, 140, { v: 3, name: 'f' }),
    change('c', 7, 150, { v: 5, name: 'g' }),
  ],
  [
    change('u', 1, 200, { v: 4, name: 'stale' }), // 4 < 5: skipped though its position is newer
    change('u', 2, 210, { v: 1, name: 'tie' }), // an equal value: the later change wins
    change('d', 3, 220, null), // deletes apply in source order
    change('u', 4, 230, { v: null, name: 'no value' }), // a dead letter
    change('d', 5, 240, null),
  ],
  [
    change('c', 3, 300, { v: 2, name: 'back' }), // not above the deleted row's 3: stays deleted
    change('u', 1, 310, { v: 6, name: 'new' }),
    change('c', 5, 320, { v: 7, name: 'again' }), // above the deleted row's 1: back
  ],
  [
    change('u', 2, 400, { v: 9, name: 'x' }),
    change('u', 2, 410, { v: 8, name: 'y' }), // one batch: the larger value
    change('d', 6, 420, null),
    change('c', 6, 430, { v: 4, name: 'h' }), // delete and re-insert in one batch, above 3: the re-insert
    change('d', 7, 440, null),
    change('c', 7, 450, { v: 2, name: 'i' }), // the same below 5: the delete
  ],
];

/** `id:v:name` of the rows after all commits. */
export const FINAL = ['1:6:new', '2:9:x', '5:7:again', '6:4:h'];

/** One more commit, for after a compaction (which drops deleted rows from base files: the writer then knows them by their tombstones). */
export const AFTER_COMPACTION: KafkaRecordIn[] = [
  change('c', 3, 500, { v: 3, name: 'equal' }), // equal to the deleted row's 3: stays deleted
  change('c', 7, 510, { v: 6, name: 'above' }), // above the deleted row's 5: back
  change('u', 6, 520, { v: 4, name: 'tie' }), // equal to the stored 4: the later change wins
];

export const FINAL_AFTER_COMPACTION = ['1:6:new', '2:9:x', '5:7:again', '6:4:tie', '7:6:above'];

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** The config of the scenario; `ordering` null: the table ordered by source position. */
export function columnOrderedConfig(dir: string, ordering: string | null = 'v') {
  return parseConfig({ lake: { uri: join(dir, 'lake') }, log: { level: 'silent' }, deadLetters: { table: false }, ...(ordering ? { tables: { overrides: { [ITEMS]: { ordering } } } } : {}) }, {});
}

/** Writes `commits` (default: the scenario) into `<dir>/lake`, one commit each; returns the store and the pipeline's summary. */
export async function writeColumnOrdered(dir: string, commits = COMMITS): Promise<{ store: ObjectStore; deadLetters: number; commits: number }> {
  const config = columnOrderedConfig(dir);
  const store = lakeStore(config.lake);
  const pipeline = new Pipeline({ store, config, logger: silent });
  const split = splitId(TOPIC, 0);
  for (const records of commits) {
    await pipeline.consume({ split, records, nextOffset: (records.at(-1) as KafkaRecordIn).offset + 1n });
    await pipeline.flushAll();
  }
  return { store, deadLetters: pipeline.summary.deadLetters, commits: pipeline.summary.commits };
}

export { silent as silentLogger };
