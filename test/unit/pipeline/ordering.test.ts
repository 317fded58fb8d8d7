import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../../src/config/index.js';
import type { ChangeEvent } from '../../../src/debezium/change-event.js';
import { lakeStore } from '../../../src/pipeline/lake.js';
import { orderByColumn, orderingValue } from '../../../src/pipeline/ordering.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { splitId } from '../../../src/source/record.js';
import { readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { applies, decidePrecombine, foldPrecombine, latestPerKey, type Mutation } from '../../../src/table/write-plan.js';
import { columnOrderedConfig, COMMITS, FINAL, silentLogger, writeColumnOrdered } from '../../support/column-ordered.js';
import { tempDir } from '../../support/temp.js';

test('orderingValue: non-negative integers as they are, zoned ISO timestamps as epoch microseconds, anything else says what it is', () => {
  assert.equal(orderingValue(42), 42n);
  assert.equal(orderingValue(2n ** 62n), 2n ** 62n);
  assert.equal(orderingValue('2025-06-11T12:02:10.220816Z'), 1749643330220816n);
  assert.equal(orderingValue('2025-06-11T14:02:10.2208+02:00'), 1749643330220800n);
  assert.equal(orderingValue('2025-06-11T12:02:10Z'), 1749643330000000n);
  assert.match(orderingValue('1969-12-31T23:59:59.5Z') as string, /before 1970/);
  assert.match(orderingValue(-1) as string, /negative/);
  assert.match(orderingValue(1.5) as string, /not a safe integer/);
  assert.match(orderingValue('2025-06-11 12:02:10') as string, /not an ISO-8601 timestamp with a zone/);
  assert.match(orderingValue('2025-13-45T12:02:10Z') as string, /not an ISO-8601 timestamp/);
  assert.equal(orderingValue(null), 'a null value');
  assert.equal(orderingValue(undefined), 'no such column');
  assert.equal(orderingValue(new Uint8Array(2)), 'a value of type bytes');
});

function ev(op: ChangeEvent['op'], v: number | null, ordering = 1n): ChangeEvent {
  return {
    table: 'public.items', op, key: { id: 1 }, row: op === 't' ? null : { id: 1, v }, position: { ordering, text: `pg:${ordering}` }, sourceTsMs: null, txId: null,
    schema: { type: 'record', name: 'items', fields: [] }, keyFields: ['id'], unavailable: [], origin: { topic: 't', partition: 0, offset: 0n },
  };
}

test('orderByColumn: the column for changes, natural order (0) for deletes, nothing for truncates; a change without a value says why', () => {
  const u = ev('u', 9);
  assert.equal(orderByColumn(u, 'v'), undefined);
  assert.equal(u.order, 9n);
  const d = ev('d', 9);
  assert.equal(orderByColumn(d, 'v'), undefined);
  assert.equal(d.order, 0n, 'a delete applies in source order whatever its before image says');
  const t = ev('t', null);
  assert.equal(orderByColumn(t, 'v'), undefined);
  assert.equal(t.order, undefined);
  assert.equal(orderByColumn(ev('c', null), 'v'), 'a null value');
  assert.equal(orderByColumn(ev('c', 1), 'w'), 'no such column');
});

test('foldPrecombine: deletes apply in source order and carry the highest value seen; upserts after them keep it as their bar; ties to the later change', () => {
  const up = (ordering: bigint, afterDelete?: bigint) => ({ deleted: false, ordering, afterDelete });
  const del = (ordering = 0n) => ({ deleted: true, ordering });
  assert.deepEqual(foldPrecombine(up(3n), up(2n)), { keep: 'kept', ordering: 3n, afterDelete: undefined });
  assert.deepEqual(foldPrecombine(up(3n), up(3n)), { keep: 'next', ordering: 3n, afterDelete: undefined });
  assert.deepEqual(foldPrecombine(up(3n), del()), { keep: 'next', ordering: 3n, afterDelete: undefined });
  assert.deepEqual(foldPrecombine(del(3n), up(2n)), { keep: 'next', ordering: 2n, afterDelete: 3n });
  assert.deepEqual(foldPrecombine(up(2n, 3n), up(1n)), { keep: 'kept', ordering: 2n, afterDelete: 3n });
  assert.deepEqual(foldPrecombine(up(2n, 3n), del()), { keep: 'next', ordering: 3n, afterDelete: undefined }, 'the bar of an earlier delete stays the highest value seen');
  assert.deepEqual(foldPrecombine(up(4n, 3n), up(4n)), { keep: 'next', ordering: 4n, afterDelete: 3n });
});

test('decidePrecombine: what is written keeps every Hudi engine on the same row', () => {
  const up = (ordering: bigint, afterDelete?: bigint): Mutation => ({ kind: 'upsert', ordering, row: { id: 1 }, ...(afterDelete === undefined ? {} : { afterDelete }) });
  const del = (ordering = 0n): Mutation => ({ kind: 'delete', ordering, row: { id: 1 } });
  const rec = (ordering: bigint) => ({ ordering, deleted: false });
  const gone = (ordering: bigint) => ({ ordering, deleted: true });
  assert.deepEqual(decidePrecombine(up(5n), undefined), { kind: 'upsert', ordering: 5n });
  assert.deepEqual(decidePrecombine(up(5n), rec(5n)), { kind: 'upsert', ordering: 5n }, 'a tie goes to the later change');
  assert.equal(decidePrecombine(up(4n), rec(5n)), undefined);
  // a delete is written at the value of what it removes, so it removes it in every engine
  assert.deepEqual(decidePrecombine(del(), rec(5n)), { kind: 'delete', ordering: 5n });
  assert.deepEqual(decidePrecombine(del(), undefined), { kind: 'delete', ordering: 0n }, 'natural order when nothing is there');
  assert.deepEqual(decidePrecombine(del(7n), rec(5n)), { kind: 'delete', ordering: 7n });
  // after a delete: above it only
  assert.equal(decidePrecombine(up(5n), gone(5n)), undefined, 'Hudi removes an equal record');
  assert.deepEqual(decidePrecombine(up(6n), gone(5n)), { kind: 'upsert', ordering: 6n });
  assert.equal(decidePrecombine(up(0n), gone(0n)), undefined, 'not even over a delete of nothing: Spark and hudi-rs part on the tie');
  // a delete and an upsert folded from one batch
  assert.deepEqual(decidePrecombine(up(4n, 0n), rec(3n)), { kind: 'upsert', ordering: 4n });
  assert.deepEqual(decidePrecombine(up(2n, 0n), rec(5n)), { kind: 'delete', ordering: 5n });
  assert.deepEqual(decidePrecombine(up(2n, 6n), undefined), { kind: 'delete', ordering: 6n });
  assert.deepEqual(decidePrecombine(up(1n, 0n), undefined), { kind: 'upsert', ordering: 1n });
  // the position rule is unchanged: only strictly newer
  assert.equal(applies(up(5n), rec(5n)), false);
  const key = () => '1';
  const tie = [{ ...up(3n), row: { id: 1, n: 'first' } }, { ...up(3n), row: { id: 1, n: 'second' } }];
  assert.equal(latestPerKey(tie, key, 'precombine').get('1')?.row.n, 'second');
  assert.equal(latestPerKey(tie, key).get('1')?.row.n, 'first', 'position rule: an equal position is a duplicate');
  assert.deepEqual(latestPerKey([up(9n), del(), up(2n)], key, 'precombine').get('1'), { ...up(2n), afterDelete: 9n });
});

test('a table ordered by a column: the column decides over source positions, deletes apply in order, a change without a value is a dead letter', async () => {
  const dir = await tempDir('cdc-lake-ordering-');
  const { store, deadLetters, commits } = await writeColumnOrdered(dir);
  assert.equal(deadLetters, 1);
  assert.equal(commits, 4);
  const table = await HudiTable.open(store, 'public/items');
  assert.equal(table.config.orderingField, '_cdc_ordering');
  assert.match(await readFile(join(dir, 'lake', 'public', 'items', '.hoodie', 'hoodie.properties'), 'utf8'), /hoodie\.table\.precombine\.field=_cdc_ordering/);
  const snap = await readSnapshot(table, { meta: true });
  assert.deepEqual(snap.rows.map((r) => `${String(r.id)}:${String(r.v)}:${String(r.name)}`).sort(), FINAL);
  // _cdc_ordering is the column's value; _cdc_position still the source position
  const one = snap.rows.find((r) => r.id === 1);
  assert.equal(BigInt(one?._cdc_ordering as number), 6n);
  assert.ok(BigInt(one?._cdc_position as number) > 6n);
  assert.ok(!(await readSnapshot(table)).schema.fields.some((f) => f.name === '_cdc_ordering'), 'hidden without --meta like the other _cdc_ columns');
});

test('an existing table keeps its order: the config changing it is a config error naming the setting', async () => {
  const dir = await tempDir('cdc-lake-ordering-');
  await writeColumnOrdered(dir);
  const config = columnOrderedConfig(dir, null);
  const pipeline = new Pipeline({ store: lakeStore(config.lake), config, logger: silentLogger });
  const records = COMMITS[0] ?? [];
  await pipeline.consume({ split: splitId('shop.public.items', 0), records: records.map((r) => ({ ...r, offset: r.offset + 100n })), nextOffset: 200n });
  await assert.rejects(pipeline.flushAll(), (e: unknown) => e instanceof ConfigError && /tables\.overrides\.public\.items\.ordering: table public\.items was created ordered by a column \(precombine field _cdc_ordering\), but the config now says none/.test(e.message));
});
