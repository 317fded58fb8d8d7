// foldBlocks with `winnersOnly` (compaction: rows decoded only for the records that win their
// key) must fold exactly as the one-pass read does, whatever the sequence of data and delete
// blocks: same key states, same orderings, same rows.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { avroDataBlock, deleteBlock } from '../../../src/hudi/log-content.js';
import { encodeLogBlock, readLogBlocks } from '../../../src/hudi/log-block.js';
import type { LogFile } from '../../../src/table/fs-view.js';
import { withMetaFields } from '../../../src/table/meta-fields.js';
import { foldBlocks, type InstantBlock } from '../../../src/table/slice-reader.js';
import { schema } from '../../support/table-fixtures.js';

const full = withMetaFields(schema);
const file: LogFile = { path: 'p/f.log.1_0-1-0', name: 'f.log.1_0-1-0', size: 0, fileId: 'f', baseInstant: '1', version: 1, writeToken: '0-1-0' };

type Change = { del: boolean; id: number; pos: number };

function blocksOf(commits: Change[][]): InstantBlock[] {
  const out: InstantBlock[] = [];
  commits.forEach((changes, c) => {
    const instant = String(100 + c);
    const rows = changes.filter((x) => !x.del).map((x, i) => ({ _hoodie_commit_time: instant, _hoodie_commit_seqno: `${instant}_0_${i}`, _hoodie_record_key: String(x.id), _hoodie_partition_path: '', _hoodie_file_name: 'f', id: x.id, name: `n${x.id}@${x.pos}`, _cdc_op: 'u', _cdc_source_ts_ms: 1, _cdc_position: x.pos, _cdc_tx_id: null }));
    const dels = changes.filter((x) => x.del).map((x) => ({ recordKey: String(x.id), partitionPath: '', orderingVal: x.pos }));
    const bytes = [
      ...(rows.length > 0 ? [encodeLogBlock(avroDataBlock({ instantTime: instant, schema: full, rows }))] : []),
      ...(dels.length > 0 ? [encodeLogBlock(deleteBlock({ instantTime: instant, schema: full, records: dels, orderingEncoding: 'java-wrapper' }))] : []),
    ];
    for (const b of bytes) for (const block of readLogBlocks(b)) out.push({ instant, block, file });
  });
  return out;
}

const change = fc.record({ del: fc.integer({ min: 0, max: 4 }).map((n) => n === 0), id: fc.integer({ min: 1, max: 6 }), pos: fc.integer({ min: 0, max: 20 }) });

test('foldBlocks: decoding only the winners’ rows folds exactly as decoding every row', () => {
  fc.assert(
    fc.property(fc.array(fc.array(change, { maxLength: 8 }), { minLength: 1, maxLength: 5 }), (commits) => {
      const blocks = blocksOf(commits);
      const once = foldBlocks(blocks, '_cdc_position');
      const twice = foldBlocks(blocks, '_cdc_position', { winnersOnly: true });
      const view = (f: ReturnType<typeof foldBlocks>) => [...f.log.states].map(([k, s]) => [k, String(s.ordering), 'row' in s ? { ...s.row } : 'deleted']);
      assert.deepEqual(view(twice), view(once));
      assert.deepEqual([twice.records, twice.deletes, [...twice.instants]], [once.records, once.deletes, [...once.instants]]);
    }),
    { numRuns: 200 },
  );
});
