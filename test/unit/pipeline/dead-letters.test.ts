// The dead-letter table has a writer in every replica: a commit refused because another
// replica committed first is made again on the table as it is now, as often as it takes.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { DEAD_LETTER_TABLE } from '../../../src/pipeline/dead-letters.js';
import { lakeStore, openLakeTable } from '../../../src/pipeline/lake.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { FENCE_DIR } from '../../../src/table/timeline.js';
import { tempDir } from '../../support/temp.js';

test('a dead-letter commit refused because other replicas committed first is made again until it lands', async () => {
  const dir = await tempDir('cdc-lake-dead-letters-');
  const config = parseConfig({ lake: { uri: dir }, log: { level: 'silent' } }, {});
  const real = lakeStore(config.lake);
  // Other replicas win the next three fence claims of the dead-letter table.
  let otherWins = 3;
  const store: ObjectStore = Object.assign(Object.create(real) as ObjectStore, {
    createIfAbsent: async (key: string, data: Uint8Array | string) => {
      if (otherWins > 0 && key.includes(`/${FENCE_DIR}/`) && key.includes('_dead_letters')) {
        otherWins--;
        await real.createIfAbsent(key, JSON.stringify({ instant: '00000000000000001', writer: 'another replica' }));
      }
      return real.createIfAbsent(key, data);
    },
  });
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const pipeline = new Pipeline({ store, config, logger });
  await pipeline.consume({ split: 'srv.s.t:0', records: [{ topic: 'srv.s.t', partition: 0, offset: 0n, key: Buffer.from('{"id":1}'), value: Buffer.from('not json') }], nextOffset: 1n });
  await pipeline.flushAll();
  assert.equal(otherWins, 0);
  const letters = await readSnapshot(await openLakeTable(real, DEAD_LETTER_TABLE));
  assert.equal(letters.rows.length, 1);
});
