/**
 * Two pipelines on one lake, driven by a fake source that plays the consumer group:
 * tables move between them (revoke / assign) and a stale writer is refused (D1, D6 of issue 5).
 */
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { decodeCheckpoint, CHECKPOINT_KEY } from '../../../src/pipeline/checkpoint.js';
import { lakeStore } from '../../../src/pipeline/lake.js';
import { Pipeline, WRITER_KEY } from '../../../src/pipeline/pipeline.js';
import { parseLineSlow } from '../../../src/source/line.js';
import { splitId, type KafkaRecordIn, type RecordBatch, type SplitId } from '../../../src/source/record.js';
import type { Source, SourceHooks } from '../../../src/source/source.js';
import type { ObjectStore } from '../../../src/storage/object-store.js';
import { HudiTable } from '../../../src/table/table.js';
import { readFenceClaims } from '../../../src/table/timeline.js';
import { tempDir } from '../../support/temp.js';

const scenario = resolve(import.meta.dirname, '../../../../shared/fixtures/debezium/scenario-two-tables.jsonl');
const ORDERS = [splitId('shop.public.orders', 0), splitId('shop.public.orders', 1)];
const CUSTOMERS = [splitId('shop.public.customers', 0)];

async function records(): Promise<Map<SplitId, KafkaRecordIn[]>> {
  const bySplit = new Map<SplitId, KafkaRecordIn[]>();
  for (const line of (await readFile(scenario, 'utf8')).split('\n')) {
    if (line.trim() === '') continue;
    const r = parseLineSlow(line);
    const s = splitId(r.topic, r.partition);
    bySplit.set(s, [...(bySplit.get(s) ?? []), r]);
  }
  return bySplit;
}

const silent = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A logger that keeps warnings (to check what a refused commit says). */
function recordingLogger(lines: string[]) {
  return createLogger({ level: 'warn', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
}

/** A fake member of the group: it holds splits and serves records from where the pipeline says they start. */
class FakeMember {
  readonly positions = new Map<SplitId, bigint>();
  reassigned: SplitId[][] = [];
  constructor(
    readonly pipeline: Pipeline,
    private readonly data: Map<SplitId, KafkaRecordIn[]>,
  ) {}
  hooks(): SourceHooks {
    return this.pipeline.hooks();
  }
  async assign(splits: SplitId[]): Promise<Map<SplitId, bigint>> {
    const starts = await this.hooks().onAssigned(splits);
    for (const s of splits) this.positions.set(s, starts.get(s) ?? 0n);
    return starts;
  }
  async revoke(splits: SplitId[]): Promise<void> {
    for (const s of splits) this.positions.delete(s);
    await this.hooks().onRevoked(splits);
  }
  /** Delivers up to `n` records of a split from its position. */
  async deliver(split: SplitId, n = Infinity): Promise<number> {
    const from = this.positions.get(split);
    assert.ok(from !== undefined, `${split} is assigned`);
    const recs = (this.data.get(split) ?? []).filter((r) => r.offset >= from).slice(0, n);
    if (recs.length === 0) return 0;
    const next = (recs[recs.length - 1] as KafkaRecordIn).offset + 1n;
    const batch: RecordBatch = { split, records: recs, nextOffset: next };
    await this.pipeline.consume(batch);
    this.positions.set(split, next);
    return recs.length;
  }
  /** The part of the Source contract a pipeline calls on its own. */
  source(): Source {
    return {
      open: async () => undefined,
      batches: async function* () {},
      pause: () => undefined,
      resume: () => undefined,
      commitOffsets: async () => undefined,
      stop: () => undefined,
      close: async () => undefined,
      reassign: async (splits) => {
        this.reassigned.push(splits);
        await this.revoke(splits);
        await this.assign(splits);
      },
    };
  }
}

async function setup(opts: { loggerA?: ReturnType<typeof createLogger> } = {}) {
  const dir = await tempDir('cdc-lake-replicas-');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, log: { level: 'silent' } }, {});
  const store = lakeStore(config.lake);
  const data = await records();
  const mk = (name: string, logger = silent) =>
    new FakeMember(new Pipeline({ store, config, logger, writer: () => ({ host: 'test', pid: 1, member: name }) }), data);
  return { store, data, a: mk('a', opts.loggerA), b: mk('b') };
}

async function ordersCommits(store: ObjectStore): Promise<Array<{ checkpoint: Map<SplitId, bigint>; writer: string | undefined }>> {
  const t = await HudiTable.open(store, 'public/orders');
  const out = [];
  for (const i of t.timeline.completed()) {
    const m = await t.timeline.commitMetadata(i);
    const text = m.extraMetadata?.[CHECKPOINT_KEY];
    if (text === undefined) continue;
    const c = decodeCheckpoint(text);
    out.push({ checkpoint: new Map([...c.splits].map(([s, v]) => [s, v.next])), writer: m.extraMetadata?.[WRITER_KEY] });
  }
  return out;
}

test('a table taken over again starts from the checkpoint its other writer committed since (not from a stale one)', async () => {
  const { store, a, b } = await setup();
  await a.assign([...ORDERS, ...CUSTOMERS]);
  // A commits part of orders, then loses the topic to B.
  await a.deliver(ORDERS[0] as SplitId);
  await a.deliver(ORDERS[1] as SplitId, 4);
  await a.pipeline.flushAll();
  await a.revoke(ORDERS);
  // B reads on from A's checkpoint and commits the rest.
  const bStarts = await b.assign(ORDERS);
  assert.equal(bStarts.get(ORDERS[1] as SplitId), 4n, 'B starts where A committed');
  await b.deliver(ORDERS[1] as SplitId);
  await b.pipeline.flushAll();
  await b.revoke(ORDERS);
  // A gets the topic back: it must start after B's commit, and write nothing twice.
  const aStarts = await a.assign(ORDERS);
  assert.equal(aStarts.get(ORDERS[1] as SplitId), 10n, 'A starts after what B committed');
  assert.equal(await a.deliver(ORDERS[1] as SplitId), 0);
  await a.pipeline.flushAll();
  const commits = await ordersCommits(store);
  assert.deepEqual(commits.map((c) => c.writer && (JSON.parse(c.writer) as { member: string }).member), ['a', 'b']);
  // Each commit moved the checkpoint forward: no range committed twice.
  assert.deepEqual(commits.map((c) => c.checkpoint.get(ORDERS[1] as SplitId)), [4n, 10n]);
  assert.deepEqual(a.pipeline.assignment().tables, ['public.orders']);
});

test('revoked splits drop their tables\' buffers: the rows are not committed by the old owner', async () => {
  const { store, a } = await setup();
  await a.assign([...ORDERS, ...CUSTOMERS]);
  await a.deliver(ORDERS[1] as SplitId);
  await a.deliver(CUSTOMERS[0] as SplitId);
  await a.revoke(ORDERS);
  assert.deepEqual(a.pipeline.assignment(), { splits: CUSTOMERS, tables: ['public.customers'], lost: [] });
  await a.pipeline.flushAll();
  assert.equal(await HudiTable.exists(store, 'public/orders'), false, 'nothing of orders was written');
  assert.equal(await HudiTable.exists(store, 'public/customers'), true);
});

test('a refused commit loses only that table: the others go on, and the lost one resumes from the timeline', async () => {
  const warnings: string[] = [];
  const { store, a, b } = await setup({ loggerA: recordingLogger(warnings) });
  await a.assign([...ORDERS, ...CUSTOMERS]);
  const source = a.source();
  await a.deliver(ORDERS[0] as SplitId);
  await a.pipeline.flushAll(source);
  // A zombie moment: B also holds orders (A's revocation has not arrived) and commits first.
  await b.assign(ORDERS);
  await b.deliver(ORDERS[1] as SplitId, 6);
  await b.pipeline.flushAll();
  // A's next orders commit is refused by the fence; customers still commits.
  await a.deliver(ORDERS[1] as SplitId, 2);
  await a.deliver(CUSTOMERS[0] as SplitId);
  await a.pipeline.flushAll(source);
  assert.ok(warnings.some((w) => w.includes('commit to public.orders refused')), `a warning names the table: ${warnings.join('')}`);
  assert.equal(await HudiTable.exists(store, 'public/customers'), true, 'the other table kept running');
  // The source re-assigned the lost table's splits: A resumes from B's checkpoint.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(a.reassigned, [ORDERS]);
  assert.equal(a.positions.get(ORDERS[1] as SplitId), 6n);
  await b.revoke(ORDERS);
  await a.deliver(ORDERS[1] as SplitId);
  await a.pipeline.flushAll(source);
  const commits = await ordersCommits(store);
  assert.deepEqual(commits.map((c) => c.checkpoint.get(ORDERS[1] as SplitId) ?? 0n), [0n, 6n, 10n]);
  const claims = await readFenceClaims(store, 'public/orders');
  // (A's reopen also rolled back its refused instant: that claim names no writer.)
  const named = claims.filter((c) => c.writer !== undefined);
  assert.deepEqual(named.map((c) => (JSON.parse(c.writer as string) as { member: string }).member), ['a', 'b', 'a']);
});
