// Design D2: a Debezium redelivery (old changes under new Kafka offsets) after compaction.
// Compaction drops deleted keys from the new base files; their delete positions must
// survive it, or a replayed delete (and a replayed older upsert) is committed again.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { LocalStore } from '../../../src/storage/local-store.js';
import { compact } from '../../../src/table/compaction.js';
import { readChanges, readSnapshot } from '../../../src/table/reader.js';
import { HudiTable } from '../../../src/table/table.js';
import { TOMBSTONE_DIR, carryForward, decodeTombstones, encodeTombstones, TombstoneError } from '../../../src/table/tombstone.js';
import type { Mutation } from '../../../src/table/write-plan.js';
import { BASE, CONFIG, TMP, del, names, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

async function freshTable(): Promise<HudiTable> {
  return HudiTable.create(new LocalStore(await tempDir('cdc-lake-replay-', TMP)), BASE, CONFIG);
}

/** Every committed change as `instant-independent` text: op, key and source position. */
async function changeList(t: HudiTable): Promise<string[]> {
  const { changes } = await readChanges(t, { since: '00000000000000000', meta: true });
  return changes.map((c) => `${c.op}:${c.key}@${String(c.row._cdc_position)}`);
}

test('upsert k@10, delete k@20, compact, restart, replay delete k@20 and upsert k@10: nothing new is committed', async () => {
  const t = await freshTable();
  await t.commit({ schema, mutations: [up(1, 'k', 10, 'c'), up(2, 'other', 11, 'c')] });
  await t.commit({ schema, mutations: [del(1, 20)] });
  const c = await compact(t);
  assert.ok(c.instant, 'the delete was compacted away');
  const snapshot = names((await readSnapshot(t)).rows);
  const history = await changeList(t);
  assert.deepEqual(history.filter((x) => x.includes(':1@')).sort(), ['c:1@10', 'd:1@20']);
  // A restart (takeover, crash) forgets the writer's in-memory key index.
  for (const handle of [t, await HudiTable.open(t.store, BASE)]) {
    const r = await handle.commit({ schema, mutations: [del(1, 20)] });
    const r2 = await handle.commit({ schema, mutations: [up(1, 'k', 10, 'c')] });
    assert.deepEqual([r.instant, r2.instant, r.skipped, r2.skipped], [undefined, undefined, 1, 1], 'the replay is skipped by position');
  }
  const reopened = await HudiTable.open(t.store, BASE);
  assert.deepEqual(names((await readSnapshot(reopened)).rows), snapshot, 'snapshot unchanged');
  assert.deepEqual(await changeList(reopened), history, '`changes` lists each change once');
  // A newer change of the key still applies.
  assert.equal((await reopened.commit({ schema, mutations: [up(1, 'back', 30, 'c')] })).upserts, 1);
  assert.deepEqual(names((await readSnapshot(reopened)).rows), ['1:back', '2:other']);
});

test('tombstones are carried through later compactions and dropped once the key has a row again', async () => {
  const t = await freshTable();
  await t.commit({ schema, mutations: [up(1, 'a', 10), up(2, 'b', 11), up(3, 'c', 12)] });
  await t.commit({ schema, mutations: [del(1, 20), del(2, 21)] });
  await compact(t);
  await t.commit({ schema, mutations: [up(2, 'b2', 30), up(3, 'c2', 31)] });
  await compact(t);
  const files = (await t.store.list(`${BASE}/${TOMBSTONE_DIR}/`)).map((o) => o.key);
  const carried = new Map<string, bigint>();
  for (const f of files) for (const [k, o] of decodeTombstones(await t.store.get(f), f)) carried.set(k, o);
  assert.deepEqual(carried, new Map([['1', 20n]]), `one live tombstone file set, key 2 written again (${files.join(', ')})`);
  const again = await HudiTable.open(t.store, BASE);
  assert.equal((await again.commit({ schema, mutations: [del(1, 20), up(1, 'a', 10), del(2, 21), up(2, 'b', 11)] })).skipped, 4);
});

test('tombstone files: round trip, carry rules, and a corrupt file names itself', () => {
  const t = new Map([['b', 5n], ['a', -1n], ['c', 9_223_372_036_854_775_807n]]);
  assert.deepEqual(decodeTombstones(encodeTombstones(t), 'x'), t);
  assert.deepEqual(carryForward(new Map([['a', 5n], ['b', 6n]]), new Set(['b']), [['a', 7n], ['c', 1n]]), new Map([['a', 7n], ['c', 1n]]));
  assert.deepEqual(carryForward(new Map([['a', 9n]]), new Set(), [['a', 7n]]), new Map([['a', 9n]]));
  assert.throws(() => decodeTombstones(Buffer.from('{"version":1,"deletes":[["a",5]]}'), 'p/t.json'), (e: unknown) => e instanceof TombstoneError && /p\/t\.json: deletes\[0\]/.test(e.message));
});

/** A generated history: per step an upsert or delete of a small key set, or a compaction. */
type Step = { kind: 'up' | 'del'; id: number } | { kind: 'compact' };

test('property: replaying any earlier change after compactions and a restart commits nothing and changes nothing', { timeout: 240_000 }, async () => {
  const step = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constantFrom<'up' | 'del'>('up', 'del'), id: fc.integer({ min: 1, max: 5 }) }) },
    { weight: 1, arbitrary: fc.constant<Step>({ kind: 'compact' }) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 14 }), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), async (steps, picks) => {
      const t = await freshTable();
      const history: Mutation[] = [];
      let pos = 100;
      for (const s of steps) {
        if (s.kind === 'compact') {
          await compact(t);
          continue;
        }
        pos += 10;
        const m = s.kind === 'up' ? up(s.id, `v${pos}`, pos) : del(s.id, pos);
        history.push(m);
        await t.commit({ schema, mutations: [m] });
      }
      if (history.length === 0) return; // only compactions: nothing to replay
      await compact(t);
      const snapshot = names((await readSnapshot(t)).rows);
      const changes = await changeList(t);
      const replay = picks.map((p) => history[p % history.length] as Mutation);
      const reopened = await HudiTable.open(t.store, BASE);
      const r = await reopened.commit({ schema, mutations: replay });
      assert.equal(r.instant, undefined, `replayed ${JSON.stringify(replay.map((m) => `${m.kind}:${String(m.row.id)}@${m.ordering}`))} was committed`);
      assert.deepEqual(names((await readSnapshot(reopened)).rows), snapshot);
      assert.deepEqual(await changeList(reopened), changes);
    }),
    { numRuns: 25, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
  );
});
