import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { FaultyStore, InjectedFault } from '../../../src/storage/faulty-store.js';
import { LocalStore } from '../../../src/storage/local-store.js';
import { clean, type CleanOptions } from '../../../src/table/cleaner.js';
import { compact } from '../../../src/table/compaction.js';
import { readIncremental, readSnapshot } from '../../../src/table/reader.js';
import type { TableSchema } from '../../../src/table/schema.js';
import { HudiTable } from '../../../src/table/table.js';
import type { Mutation } from '../../../src/table/write-plan.js';
import { TMP } from '../../support/table-fixtures.js';
import { removeTempDir, tempDir } from '../../support/temp.js';

/**
 * Property: after any sequence of upserts, deletes, stale (out-of-order) changes,
 * compactions, cleanings, truncates and crashes at any storage call, our reader
 * equals a plain in-memory model — at the latest instant, at every retained
 * instant (time travel) and for every incremental range between retained instants.
 */

const schema: TableSchema = {
  type: 'record',
  name: 'model',
  fields: [
    { name: 'id', type: ['null', 'int'], default: null },
    { name: 'name', type: ['null', 'string'], default: null },
    { name: '_cdc_position', type: ['null', 'long'], default: null },
  ],
};
/** The partitioned variant: `region` derives from the key, and deletes omit it (the writer must find the key). */
const partitionedSchema: TableSchema = { ...schema, fields: [...schema.fields.slice(0, 2), { name: 'region', type: ['null', 'string'], default: null }, ...schema.fields.slice(2)] };
const BASE = 'db/model';
const CONFIG = { tableName: 'model', database: 'db', recordKeyFields: ['id'], orderingField: '_cdc_position', buckets: 2 };
const region = (key: number) => `r${key % 3}`;

type MutSpec = { key: number; del: boolean; stale: boolean };
/** `protect`: index (from the newest) of a completed write instant a consumer still reads from. */
type Op = { kind: 'write'; muts: MutSpec[] } | { kind: 'compact' } | { kind: 'clean'; retain: number; protect?: number } | { kind: 'truncate' };
type Crash = { at: number; when: 'before' | 'after' } | undefined;
type Step = { op: Op; crash: Crash };

interface Version { name: string; pos: number; instant: string }

/** The model: live rows, and the rows as of every completed write instant. */
class Model {
  live = new Map<number, Version>();
  history = new Map<string, Map<number, Version>>();
  pos = 0;
  /** The newest earliest-to-retain any clean (completed or crashed) used: older instants may be gone. */
  floor = '';
  /** `protectedSince` values cleans were given: incremental reads from them must keep working. */
  protectedSince: string[] = [];

  /** Mutations for a batch, resolved against the live state; stale ones target live keys with an older position. */
  mutations(specs: MutSpec[], partitioned: boolean): { muts: Mutation[]; apply: Map<number, Version | null> } {
    const muts: Mutation[] = [];
    const winner = new Map<number, { pos: number; v: Version | null; stale: boolean }>();
    for (const s of specs) {
      const cur = this.live.get(s.key);
      if (s.stale && cur === undefined) continue;
      const pos = s.stale ? cur!.pos - 1 : ++this.pos;
      const name = s.stale ? `stale${pos}` : `n${pos}`;
      muts.push(s.del
        ? { kind: 'delete', ordering: BigInt(pos), row: { id: s.key } }
        : { kind: 'upsert', ordering: BigInt(pos), row: { id: s.key, name, ...(partitioned ? { region: region(s.key) } : {}), _cdc_position: pos } });
      const w = winner.get(s.key);
      if (w === undefined || pos > w.pos) winner.set(s.key, { pos, v: s.del ? null : { name, pos, instant: '' }, stale: s.stale });
    }
    const apply = new Map<number, Version | null>();
    for (const [k, w] of winner) if (!w.stale) apply.set(k, w.v);
    return { muts, apply };
  }

  commit(instant: string, apply: Map<number, Version | null>): void {
    for (const [k, v] of apply) {
      if (v === null) this.live.delete(k);
      else this.live.set(k, { ...v, instant });
    }
    this.snapshot(instant);
  }

  snapshot(instant: string): void {
    this.history.set(instant, new Map(this.live));
  }
}

const rowsOf = (m: Map<number, Version>, since?: string) =>
  [...m].filter(([, v]) => since === undefined || v.instant > since).map(([k, v]) => `${k}:${v.name}`).sort();
const names = (rows: Record<string, unknown>[]) => rows.map((r) => `${r.id}:${r.name}`).sort();

/** KEEP_LATEST_COMMITS as the model sees it (independent of cleaner.ts): N-th newest, or the first instant after a protected start. */
function modelEarliest(sorted: string[], opts: CleanOptions): string | undefined {
  const nth = sorted[Math.max(0, sorted.length - opts.retainCommits)];
  const p = opts.protectedSince;
  if (nth === undefined || p === undefined) return nth;
  const afterP = sorted.find((i) => i > p) ?? nth;
  return afterP < nth ? afterP : nth;
}

function cleanOptions(op: { retain: number; protect?: number }, completed: readonly string[]): CleanOptions {
  const protectedSince = op.protect === undefined ? undefined : completed[completed.length - 1 - op.protect];
  return { retainCommits: op.retain, ...(protectedSince === undefined ? {} : { protectedSince }) };
}

async function runOp(t: HudiTable, op: Op, muts: Mutation[], partitioned: boolean): Promise<void> {
  if (op.kind === 'write') await t.commit({ schema: partitioned ? partitionedSchema : schema, mutations: muts });
  else if (op.kind === 'compact') await compact(t);
  else if (op.kind === 'clean') await clean(t, cleanOptions(op, t.timeline.completed().map((i) => i.timestamp)));
  else await t.truncate();
}

async function check(steps: Step[], partitioned = false): Promise<void> {
  // One dir per property run, removed at once: the runs make thousands.
  const dir = await tempDir('cdc-lake-model-', TMP);
  try {
    const local = new LocalStore(dir);
    let t = await HudiTable.create(local, BASE, partitioned ? { ...CONFIG, partitionField: 'region' } : CONFIG);
    const model = new Model();
    for (const [n, { op, crash }] of steps.entries()) {
      const before = new Set(t.timeline.completed().map((i) => i.timestamp));
      const { muts, apply } = op.kind === 'write' ? model.mutations(op.muts, partitioned) : { muts: [], apply: new Map<number, Version | null>() };
      if (op.kind === 'clean') {
        const opts = cleanOptions(op, [...before].sort());
        if (opts.protectedSince !== undefined) model.protectedSince.push(opts.protectedSince);
        const e = modelEarliest([...before].sort(), opts);
        if (e !== undefined && e > model.floor) model.floor = e;
      }
      if (crash === undefined) {
        await runOp(t, op, muts, partitioned);
      } else {
        const faulty = new FaultyStore(local, { at: crash.at, when: crash.when, action: 'throw' });
        try {
          await runOp(await HudiTable.open(faulty, BASE), op, muts, partitioned);
        } catch (e) {
          if (!(e instanceof InjectedFault)) throw e;
        }
        t = await HudiTable.open(local, BASE);
        await t.recover();
        assert.deepEqual(t.timeline.pending(), [], `step ${n}: nothing pending after recovery`);
      }
      const fresh = t.timeline.completed().filter((i) => !before.has(i.timestamp));
      assert.ok(fresh.length <= 1, `step ${n}: one new write instant at most`);
      const done = fresh[0];
      if (done !== undefined) {
        if (op.kind === 'write') model.commit(done.timestamp, apply);
        else if (op.kind === 'truncate') {
          model.live.clear();
          model.snapshot(done.timestamp);
        } else model.snapshot(done.timestamp);
      }
      assert.deepEqual(names((await readSnapshot(t)).rows), rowsOf(model.live), `step ${n} (${op.kind}${crash ? ` crash ${crash.at} ${crash.when}` : ''}): latest snapshot`);
    }
    // Time travel and incremental ranges over the retained instants.
    const reopened = await HudiTable.open(local, BASE);
    const retained = reopened.timeline.completed().map((i) => i.timestamp).filter((i) => i >= model.floor);
    for (const i of retained) {
      const want = model.history.get(i);
      assert.ok(want, `instant ${i} is in the model`);
      assert.deepEqual(names((await readSnapshot(reopened, { asOf: i })).rows), rowsOf(want), `as of ${i}`);
    }
    const all = reopened.timeline.completed().map((i) => i.timestamp);
    // A protected consumer's start counts while no later clean moved past it.
    // Incremental reads use the slices as of `until` (each row keeps its commit time), so any
    // start works while `until` is retained — cleaned or not, and protected starts included.
    const starts = [...all, ...model.protectedSince];
    for (const s of [...new Set(starts)]) {
      for (const u of retained.filter((x) => x > s)) {
        const got = names((await readIncremental(reopened, { since: s, until: u })).rows);
        assert.deepEqual(got, rowsOf(model.history.get(u)!, s), `incremental (${s}, ${u}]`);
      }
    }
  } finally {
    await removeTempDir(dir);
  }
}

const mutArb: fc.Arbitrary<MutSpec> = fc.record({ key: fc.integer({ min: 0, max: 6 }), del: fc.integer({ min: 0, max: 3 }).map((x) => x === 0), stale: fc.integer({ min: 0, max: 4 }).map((x) => x === 0) });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.array(mutArb, { minLength: 1, maxLength: 6 }).map((muts): Op => ({ kind: 'write', muts })) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'compact' }) },
  { weight: 2, arbitrary: fc.record({ retain: fc.integer({ min: 1, max: 4 }), protect: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }) }).map((c): Op => ({ kind: 'clean', ...c })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'truncate' }) },
);
const crashArb: fc.Arbitrary<Crash> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.record({ at: fc.integer({ min: 1, max: 12 }), when: fc.constantFrom('before' as const, 'after' as const) }) },
);
const stepsArb = fc.array(fc.record({ op: opArb, crash: crashArb }), { minLength: 1, maxLength: 12 });

const RUNS = Number(process.env.CDC_LAKE_MODEL_RUNS ?? 25);

test('the table equals an in-memory model under random writes, maintenance, truncates and crashes', { timeout: 120_000 }, async () => {
  await fc.assert(fc.asyncProperty(stepsArb, fc.boolean(), check), { numRuns: RUNS, endOnFailure: false });
});

test('regression: crash after a compaction base file, then clean and time travel', async () => {
  await check([
    { op: { kind: 'write', muts: [{ key: 1, del: false, stale: false }, { key: 2, del: false, stale: false }] }, crash: undefined },
    { op: { kind: 'write', muts: [{ key: 1, del: false, stale: false }, { key: 2, del: true, stale: false }] }, crash: undefined },
    { op: { kind: 'compact' }, crash: { at: 4, when: 'after' } },
    { op: { kind: 'write', muts: [{ key: 1, del: false, stale: true }, { key: 3, del: false, stale: false }] }, crash: undefined },
    { op: { kind: 'compact' }, crash: undefined },
    { op: { kind: 'clean', retain: 2 }, crash: undefined },
    { op: { kind: 'truncate' }, crash: { at: 2, when: 'after' } },
    { op: { kind: 'write', muts: [{ key: 4, del: false, stale: false }] }, crash: undefined },
  ]);
});

test('a crash at every storage call of a commit (log append and new base file) leaves the completed commits only', async () => {
  const seed: Step[] = [{ op: { kind: 'write', muts: [{ key: 1, del: false, stale: false }, { key: 2, del: false, stale: false }] }, crash: undefined }];
  // Key 1 gets a log append, key 5 likely a new file group or append, key 2 a delete.
  const write: Op = { kind: 'write', muts: [{ key: 1, del: false, stale: false }, { key: 5, del: false, stale: false }, { key: 2, del: true, stale: false }] };
  for (let at = 1; at <= 10; at++) {
    for (const when of ['before', 'after'] as const) await check([...seed, { op: write, crash: { at, when } }, { op: write, crash: undefined }]);
  }
});
