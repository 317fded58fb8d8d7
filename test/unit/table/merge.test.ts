import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LogFold, mergeBaseWithLogs, mergeSlice, type SliceDelete, type SliceRecord } from '../../../src/table/merge.js';

/**
 * A key's base row and log, merged as hudi-rs 0.5 reads it (the cases measured against
 * hudi-rs and Spark in docs/table-format.md): `D<n>` a delete with ordering value n (`D0`:
 * natural order), `r<n>` a record with ordering value n, in log order, one commit each
 * (`r<n>#<i>`: the record at log position i).
 */
const CASES: [base: number | null, log: string[], expected: string | null][] = [
  [100, ['D0', 'r150'], 'r150#2'],
  [100, ['D0', 'r100'], 'r100#2'],
  [100, ['r50', 'D0'], null],
  [100, ['r150', 'D0'], null],
  [100, ['D0'], null],
  [100, ['D120', 'r130'], 'r130#2'],
  [100, ['r150', 'D120'], 'r150#1'],
  [100, ['D120', 'r110'], null],
  [100, ['D80'], 'base'],
  // a record after a natural-order delete is compared with the base, not with what came before the delete
  [100, ['D0', 'r50'], 'base'],
  [100, ['D0', 'r50', 'r40'], 'base'],
  [null, ['r100', 'D0', 'r50'], 'r50#3'],
  // an equal value goes to the later one
  [null, ['r100', 'r100'], 'r100#2'],
  [100, ['r100'], 'r100#1'],
];

function instant(i: number): string {
  return `2026113010000000${i}`;
}

function record(name: string, ordering: number, i: number): SliceRecord {
  return { key: '1', ordering, commitTime: instant(i), seqno: `${instant(i)}_0_1`, row: { id: 1, name } };
}

function fold(log: string[]): LogFold {
  const f = new LogFold();
  log.forEach((e, i) => {
    const n = Number(e.slice(1));
    if (e.startsWith('D')) f.delete({ key: '1', ordering: n, instant: instant(i + 1) } satisfies SliceDelete);
    else f.record(record(`${e}#${i + 1}`, n, i + 1));
  });
  return f;
}

for (const [base, log, expected] of CASES) {
  test(`base ${base ?? 'none'}, log ${log.join(' ')} → ${expected ?? 'no row'}`, () => {
    const baseRecords = base === null ? [] : [record('base', base, 0)];
    const states = fold(log).states;
    const merged = mergeSlice(baseRecords, states);
    assert.equal((merged.records.get('1')?.row.name as string | undefined) ?? null, expected, 'mergeSlice');
    assert.equal(merged.deletes.has('1'), expected === null, 'a removed key keeps its delete as a watermark');
    const { sources } = mergeBaseWithLogs(baseRecords.map((r) => r.key), () => base, states);
    const names = sources.map((s) => (typeof s === 'number' ? 'base' : (s.row.name as string)));
    assert.deepEqual(names, expected === null ? [] : [expected], 'mergeBaseWithLogs');
  });
}
