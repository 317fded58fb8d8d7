import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LocalStore } from '../../../src/storage/local-store.js';
import { HudiTable } from '../../../src/table/table.js';
import { FileGroupKeys, KeyIndexBudget } from '../../../src/table/key-index.js';
import { clean } from '../../../src/table/cleaner.js';
import { compact } from '../../../src/table/compaction.js';
import { Timeline } from '../../../src/table/timeline.js';
import { decodeTimelineAvro } from '../../../src/hudi/timeline-avro.js';
import { readChanges, readIncremental, readSnapshot } from '../../../src/table/reader.js';
import type { TableSchema } from '../../../src/table/schema.js';
import type { Mutation } from '../../../src/table/write-plan.js';
import { CONFIG, del, names, schema, up } from '../../support/table-fixtures.js';
import { tempDir } from '../../support/temp.js';

async function newTable(buckets = 2): Promise<HudiTable> {
  const dir = await tempDir('cdc-lake-table-');
  return HudiTable.create(new LocalStore(dir), 'shop/customers', { ...CONFIG, buckets });
}


test('upserts, deletes and the source-order guard across commits', async () => {
  const t = await newTable();
  const c1 = await t.commit({ schema, mutations: [up(1, 'a', 10, 'c'), up(2, 'b', 11, 'c'), up(3, 'c', 12, 'c')] });
  assert.ok(c1.instant);
  const c2 = await t.commit({ schema, mutations: [up(1, 'a2', 20), del(2, 21), up(3, 'stale', 5)] });
  assert.equal(c2.skipped, 1);
  // A replayed old delete never removes a newer row; a stale upsert never resurrects a deleted one.
  const c3 = await t.commit({ schema, mutations: [del(1, 15), up(2, 'zombie', 19)] });
  assert.equal(c3.skipped, 2);
  const snap = await readSnapshot(t);
  assert.deepEqual(names(snap.rows), ['1:a2', '3:c']);
  const asOf1 = await readSnapshot(t, { asOf: c1.instant });
  assert.deepEqual(names(asOf1.rows), ['1:a', '2:b', '3:c']);
  const inc = await readIncremental(t, { since: c1.instant! });
  assert.deepEqual(names(inc.rows), ['1:a2']);
  const ch = await readChanges(t, { since: '00000000000000000' });
  assert.deepEqual(ch.changes.map((c) => `${c.op}${c.key}`), ['c1', 'c2', 'c3', 'u1', 'd2']);
});

test('reopen keeps the guard and the schema; truncate empties the table', async () => {
  const t = await newTable(1);
  await t.commit({ schema, mutations: [up(1, 'a', 10, 'c')] });
  const again = await HudiTable.open(t.store, 'shop/customers');
  const r = await again.commit({ schema, mutations: [up(1, 'old', 9)] });
  assert.equal(r.skipped, 1);
  await again.truncate();
  assert.deepEqual((await readSnapshot(again)).rows, []);
  await again.commit({ schema, mutations: [up(7, 'after', 30, 'c')] });
  assert.deepEqual(names((await readSnapshot(again)).rows), ['7:after']);
});

test('an added column rewrites file groups; old rows read as null', async () => {
  const t = await newTable(2);
  await t.commit({ schema, mutations: [up(1, 'a', 10, 'c'), up(2, 'b', 11, 'c')] });
  const wider: TableSchema = { ...schema, fields: [...schema.fields.slice(0, 2), { name: 'tier', type: ['null', 'string'], default: null }, ...schema.fields.slice(2)] };
  const m = up(3, 'c', 12, 'c');
  m.row.tier = 'gold';
  const c1 = await t.commit({ schema, mutations: [up(4, 'd', 9, 'c')] });
  await t.commit({ schema: wider, mutations: [m, del(2, 20)] });
  const snap = await readSnapshot(t);
  assert.deepEqual(snap.rows.map((r) => `${r.id}:${r.tier}`).sort(), ['1:null', '3:gold', '4:null']);
  // The rewrite keeps the history: the delete and the insert of that commit are changes.
  const ch = await readChanges(t, { since: c1.instant! });
  assert.deepEqual(ch.changes.map((c) => `${c.op}${c.key}`), ['d2', 'c3']);
});

test('a writer with a stale view (a zombie) cannot complete a commit', async () => {
  const t = await newTable(1);
  await t.commit({ schema, mutations: [up(1, 'a', 10, 'c')] });
  const zombie = await HudiTable.open(t.store, 'shop/customers');
  const owner = await HudiTable.open(t.store, 'shop/customers');
  await owner.commit({ schema, mutations: [up(2, 'b', 11, 'c')] });
  await assert.rejects(zombie.commit({ schema, mutations: [up(3, 'z', 12, 'c')] }), { name: 'InstantConflict' });
  // The zombie's files are never visible, and the next writer rolls its instant back.
  const next = await HudiTable.open(t.store, 'shop/customers');
  assert.deepEqual(names((await readSnapshot(next)).rows), ['1:a', '2:b']);
  assert.equal((await next.recover()).length, 1);
  await next.commit({ schema, mutations: [up(4, 'd', 13, 'c')] });
  assert.deepEqual(names((await readSnapshot(next)).rows), ['1:a', '2:b', '4:d']);
});

/** A store that stops one writer's first mutating call matching `at` until released (a SIGSTOP there). */
class FreezingStore extends LocalStore {
  private frozen: { at: (op: string, key: string) => boolean; reached: () => void; thawed: Promise<void> } | undefined;

  freeze(at: (op: string, key: string) => boolean): { reached: Promise<void>; thaw: () => void } {
    let reached!: () => void;
    let thaw!: () => void;
    const hit = new Promise<void>((r) => (reached = r));
    this.frozen = { at, reached, thawed: new Promise<void>((r) => (thaw = r)) };
    return { reached: hit, thaw };
  }

  private async gate(op: string, key: string): Promise<void> {
    const f = this.frozen;
    if (f === undefined || !f.at(op, key)) return;
    this.frozen = undefined;
    f.reached();
    await f.thawed;
  }

  override async createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    await this.gate('createIfAbsent', key);
    return super.createIfAbsent(key, data);
  }

  override async delete(key: string): Promise<void> {
    await this.gate('delete', key);
    return super.delete(key);
  }
}

/** Instants that are both completed and named by a completed rollback (readers would miss their files). */
async function completedButRolledBack(t: HudiTable): Promise<string[]> {
  await t.refresh();
  const rollbacks = t.timeline.instants.filter((i) => i.action === 'rollback' && i.state === 'completed');
  const rolledBack = new Set<string>();
  for (const r of rollbacks) for (const c of decodeTimelineAvro('HoodieRollbackMetadata', await t.store.get(t.timeline.instantPath(r))).commitsRollback) rolledBack.add(c);
  return t.timeline.completed().filter((i) => rolledBack.has(i.timestamp)).map((i) => i.timestamp);
}

/** A one-bucket table with one commit, and its folder for other writers' stores. */
async function committedTable(): Promise<{ dir: string; t: HudiTable }> {
  const dir = await tempDir('cdc-lake-table-');
  const t = await HudiTable.create(new LocalStore(dir), 'shop/customers', { ...CONFIG, buckets: 1 });
  await t.commit({ schema, mutations: [up(1, 'a', 10, 'c')] });
  return { dir, t };
}

test('a writer stopped between its fence claim and its completed file is rolled forward by the next, never rolled back', async () => {
  const { dir, t } = await committedTable();
  const frozenStore = new FreezingStore(dir);
  const zombie = await HudiTable.open(frozenStore, 'shop/customers');
  const stop = frozenStore.freeze((op, key) => op === 'createIfAbsent' && key.endsWith('.deltacommit'));
  const zombieCommit = zombie.commit({ schema, mutations: [up(2, 'z', 11, 'c')] });
  await stop.reached; // its fence is claimed; the completed file is not written
  const next = await HudiTable.open(t.store, 'shop/customers');
  assert.deepEqual(names((await readSnapshot(next)).rows), ['1:a'], 'the claimed instant is not visible before it is rolled forward');
  assert.deepEqual(await next.recover(), [], 'nothing is rolled back');
  await next.commit({ schema, mutations: [up(3, 'c', 12, 'c')] });
  stop.thaw();
  // The zombie's completed file exists already (the next writer wrote it): the zombie learns it lost the table.
  await assert.rejects(zombieCommit, { name: 'InstantConflict' });
  const reader = await HudiTable.open(t.store, 'shop/customers');
  assert.deepEqual(names((await readSnapshot(reader)).rows), ['1:a', '2:z', '3:c']);
  assert.deepEqual(await completedButRolledBack(reader), []);
  assert.deepEqual(await t.store.list('shop/customers/.hoodie/.temp/'), [], 'the rolled-forward instant\'s markers are gone');
});

test('a writer stalled before its fence claim cannot complete an instant the next writer is rolling back', async () => {
  const { dir, t } = await committedTable();
  const zombieStore = new FreezingStore(dir);
  const zombie = await HudiTable.open(zombieStore, 'shop/customers');
  const zombieStop = zombieStore.freeze((op, key) => op === 'createIfAbsent' && key.includes('/fence/'));
  const zombieCommit = zombie.commit({ schema, mutations: [up(1, 'zombie', 20)] });
  await zombieStop.reached; // its log file is written, its fence not claimed
  // The next writer stops in the middle of rolling the zombie's instant back; the zombie wakes then.
  const nextStore = new FreezingStore(dir);
  const next = await HudiTable.open(nextStore, 'shop/customers');
  const nextStop = nextStore.freeze((op, key) => op === 'delete' && key.includes('.log.'));
  const recovering = next.recover();
  await nextStop.reached;
  zombieStop.thaw();
  await assert.rejects(zombieCommit, { name: 'InstantConflict' }, 'the zombie cannot complete the instant being rolled back');
  nextStop.thaw();
  assert.equal((await recovering).length, 1);
  await next.commit({ schema, mutations: [up(3, 'c', 12, 'c')] });
  const reader = await HudiTable.open(t.store, 'shop/customers');
  assert.deepEqual(names((await readSnapshot(reader)).rows), ['1:a', '3:c']);
  assert.deepEqual(await completedButRolledBack(reader), []);
});

test('refresh works on a table with no commit yet', async () => {
  const t = await newTable(1);
  await t.refresh();
  assert.ok((await t.commit({ schema, mutations: [up(1, 'a', 10, 'c')] })).instant);
});

test('an update whose TOAST column was not sent keeps the value of an insert in the same commit', async () => {
  const t = await newTable(1);
  const update: Mutation = { kind: 'upsert', ordering: 11n, unavailable: ['name'], row: { id: 1, name: null, _cdc_op: 'u', _cdc_source_ts_ms: 1, _cdc_position: 11, _cdc_tx_id: null } };
  await t.commit({ schema, mutations: [up(1, 'long text', 10, 'c'), update] });
  assert.deepEqual(names((await readSnapshot(t)).rows), ['1:long text']);
});

test('the ordering written is the mutation ordering, in base and log files, and the caller rows stay as given', async () => {
  const t = await newTable(1);
  const first: Mutation = { ...up(1, 'a', 10, 'c'), ordering: 40n };
  const second: Mutation = { ...up(1, 'b', 11), ordering: 50n };
  const before = structuredClone(first.row);
  await t.commit({ schema, mutations: [first] });
  assert.deepEqual((await readSnapshot(t, { meta: true })).rows.map((r) => r._cdc_position), [40]);
  await t.commit({ schema, mutations: [second] });
  assert.deepEqual((await readSnapshot(t, { meta: true })).rows.map((r) => `${r.name}@${r._cdc_position}`), ['b@50']);
  assert.deepEqual(first.row, before);
  assert.equal(second.row._cdc_position, 11);
});

test('after its own commits, compactions, cleans and truncates a writer knows the timeline without listing .hoodie/ again, and knows what a listing shows', async () => {
  const dir = await tempDir('cdc-lake-table-');
  const local = new LocalStore(dir);
  let listings = 0;
  // Counts listings of the timeline folder: they grow with every commit.
  const store = new Proxy(local, {
    get(target, prop, receiver) {
      if (prop === 'listDir') return (prefix: string) => (prefix.endsWith('.hoodie') && listings++, target.listDir(prefix));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const t = await HudiTable.create(store, 'shop/customers', { ...CONFIG, buckets: 1 });
  const same = async (what: string): Promise<void> => assert.deepEqual(t.timeline.instants, (await Timeline.load(local, 'shop/customers')).instants, what);
  listings = 0;
  for (let i = 1; i <= 4; i++) {
    await t.commit({ schema, mutations: [up(1, `v${i}`, 10 * i, i === 1 ? 'c' : 'u')] });
    await same(`after commit ${i}`);
  }
  assert.ok((await compact(t)).instant);
  await same('after the compaction');
  for (let i = 5; i <= 7; i++) await t.commit({ schema, mutations: [up(1, `v${i}`, 10 * i)] });
  assert.ok((await compact(t)).instant);
  assert.ok((await clean(t, { retainCommits: 2 })).instant);
  await same('after the clean');
  assert.ok(await t.truncate());
  await same('after the truncate');
  assert.equal(listings, 0, 'no listing of .hoodie/ by the writer');
});

test('under a key index budget, file groups dropped from the index are read again when written: late changes still lose', async () => {
  const dir = await tempDir('cdc-lake-key-budget-');
  // Smaller than one file group's index: after each commit only the last group used stays.
  const budget = new KeyIndexBudget(1024);
  const t = await HudiTable.create(new LocalStore(dir), 't', { ...CONFIG, buckets: 4 }, { keyIndexBudget: budget });
  const ids = Array.from({ length: 40 }, (_x, i) => i + 1);
  await t.commit({ schema, mutations: ids.map((id) => up(id, `a${id}`, 100 + id)) });
  await t.commit({ schema, mutations: [up(1, 'b1', 500), del(2, 501)] });
  assert.ok(budget.evicted > 0, 'groups were dropped');
  // Every key changes again, older than what the table holds: the reloaded indexes refuse them all.
  await t.commit({ schema, mutations: ids.map((id) => up(id, `late${id}`, 50)) });
  const want = ids.filter((id) => id !== 2).map((id) => `${id}:${id === 1 ? 'b1' : `a${id}`}`).sort();
  assert.deepEqual(names((await readSnapshot(t)).rows), want);
  await t.commit({ schema, mutations: [up(3, 'c3', 600), up(2, 'back', 601)] });
  assert.deepEqual(names((await readSnapshot(t)).rows), [...want.filter((r) => !r.startsWith('3:')), '3:c3', '2:back'].sort());
  assert.ok(budget.bytes < 2 * new FileGroupKeys().bytes, `one file group's index is kept, not four (${budget.bytes} bytes)`);
});
