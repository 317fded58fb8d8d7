/**
 * Interop: deletes followed by records in a file slice's logs, as Spark-written tables can hold
 * them (our writer never writes these sequences). One table per case: our base file (key 1 at
 * ordering value 100, or no base row for key 1), then one commit per step, each of whose log
 * files gets a hand-made block for key 1 after our own — a natural-order delete (`D0`, Spark's
 * `int-zero` bytes), a delete with a value (`D<n>`, `LongWrapper`) or a record (`r<n>`). Our
 * reader must return what hudi-rs 0.5 returns; where Spark 0.15 agrees, Spark is asked too.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeLogBlock, readLogBlocks } from '../../../src/hudi/log-block.js';
import { avroDataBlock, deleteBlock } from '../../../src/hudi/log-content.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { withMetaFields } from '../../../src/table/meta-fields.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { hudiRsRows, sparkBatch } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { CONFIG, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

stackEnv(); // fail loudly when the engines are not configured

const TABLE = 'db/items';
const full = withMetaFields(schema);

/** The table's folder: base commit, then one commit per step with key 1's block appended to its log file. */
async function build(base: number | null, steps: string[]): Promise<string> {
  const root = await tempDir('cdc-lake-log-order-');
  const store = new LocalStore(root);
  const dir = join(root, TABLE);
  const table = await HudiTable.create(store, TABLE, { ...CONFIG, buckets: 1 });
  await table.commit({ schema, mutations: [...(base === null ? [] : [up(1, 'base', base, 'c')]), up(2, 'other', 5, 'c')] });
  for (const [i, step] of steps.entries()) {
    const before = new Set(await readdir(dir));
    const { instant } = await table.commit({ schema, mutations: [up(2, `other${i}`, 6 + i)] });
    const file = (await readdir(dir)).find((f) => !before.has(f) && f.includes('.log.'));
    assert.ok(instant !== undefined && file !== undefined, `commit ${i + 1} wrote a log file`);
    const n = Number(step.slice(1));
    const block = step.startsWith('D')
      ? deleteBlock({ instantTime: instant, schema: full, records: [{ recordKey: '1', partitionPath: '', orderingVal: n }], orderingEncoding: n === 0 ? 'int-zero' : 'java-wrapper' })
      : avroDataBlock({
          instantTime: instant,
          schema: full,
          rows: [{ _hoodie_commit_time: instant, _hoodie_commit_seqno: `${instant}_0_9`, _hoodie_record_key: '1', _hoodie_partition_path: '', _hoodie_file_name: file.slice(1, file.indexOf('_')), id: 1, name: `${step}#${i + 1}`, _cdc_op: 'u', _cdc_source_ts_ms: 1, _cdc_position: n, _cdc_tx_id: null }],
        });
    const path = `${TABLE}/${file}`;
    const ours = readLogBlocks(await store.get(path)).map((b) => encodeLogBlock({ type: b.type, headers: b.headers, content: b.content }));
    await store.delete(path);
    await store.put(path, Buffer.concat([...ours, encodeLogBlock(block)]));
  }
  return root;
}

/** Key 1's name in our snapshot, or null. */
async function ours(root: string): Promise<string | null> {
  const snap = await readSnapshot(await HudiTable.open(new LocalStore(root), TABLE));
  const row = snap.rows.find((r) => r.id === 1);
  return row === undefined ? null : String(row.name);
}

const keyOne = (rows: Record<string, unknown>[]): string | null => {
  const row = rows.find((r) => String(r.id) === '1');
  return row === undefined ? null : String(row.name);
};

// [base, log of key 1, what hudi-rs 0.5 reads, whether Spark 0.15 reads the same]
const CASES: [number | null, string[], string | null, boolean][] = [
  [100, ['D0', 'r50'], 'base', true],
  [100, ['D0', 'r50', 'r40'], 'base', true],
  [null, ['r100', 'D0', 'r50'], 'r50#3', true],
  [100, ['D0', 'r150'], 'r150#2', false],
  [100, ['r50', 'D0'], null, false],
  [100, ['D120', 'r130'], 'r130#2', false],
  [100, ['r150', 'D120'], 'r150#1', false],
  // where Spark parts from hudi-rs: a record after any delete wins there; a delete below the base still removes it
  [100, ['D120', 'r110'], null, false],
  [100, ['D80'], 'base', false],
];

test('a slice whose logs hold deletes followed by records reads as hudi-rs reads it', { timeout: 600_000 }, async () => {
  for (const [base, steps, expected, spark] of CASES) {
    const root = await build(base, steps);
    const what = `base ${base ?? 'none'}, log ${steps.join(' ')}`;
    assert.equal(keyOne(await hudiRsRows(join(root, TABLE))), expected, `hudi-rs: ${what}`);
    assert.equal(await ours(root), expected, `ours: ${what}`);
    if (spark) {
      const [answer] = await sparkBatch(join(root, TABLE), [{ mode: 'snapshot' }]);
      assert.ok(answer !== undefined && 'rows' in answer, `Spark: ${what}: ${answer !== undefined && 'error' in answer ? answer.error : 'no answer'}`);
      assert.equal(keyOne(answer.rows), expected, `Spark: ${what}`);
    }
  }
});
