import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BufferSet } from '../../../src/pipeline/buffer.js';
import { alignCut, TransactionLog, type TxnSpan } from '../../../src/pipeline/transaction.js';
import { checkpointForCommit, emptyCheckpoint, isUnconsumed, type Checkpoint } from '../../../src/pipeline/checkpoint.js';
import type { ChangeEvent } from '../../../src/debezium/change-event.js';
import { splitId } from '../../../src/source/record.js';

const schema = { type: 'record' as const, name: 't', fields: [] };
const limits = { maxRows: 1000, maxBytes: 1 << 20, maxAgeMs: 1000, memoryBudgetBytes: 1 << 22, trackTransactions: true };

function ev(key: number, seq: number, txId: string | null, partition: number, offset: bigint): ChangeEvent {
  return {
    table: 's.t',
    op: 'u',
    key: { id: key },
    row: { id: key, v: seq },
    position: { ordering: BigInt(seq), text: `p${seq}` },
    sourceTsMs: null,
    txId,
    schema,
    keyFields: ['id'],
    unavailable: [],
    origin: { topic: 'topic', partition, offset },
  };
}

const span = (offsets: Array<[string, bigint]>, seen = offsets.length): TxnSpan => ({ seen, firstOffsets: new Map(offsets), lastOffsets: new Map(offsets), firstSeenMs: 0 });

test('alignCut: nothing held when every transaction is complete', () => {
  const cut = alignCut([{ split: 'a:0', offset: 0n, txIds: ['1'] }], new Map([['1', span([['a:0', 0n]])]]), () => true);
  assert.equal(cut.size, 0);
});

test('alignCut: an open transaction cuts its splits at its first offset; a row that replaced its change drags its own transaction along', () => {
  const spans = new Map([
    ['1', span([['a:0', 0n]])],
    ['2', span([['a:0', 2n], ['a:1', 5n]])],
    ['3', span([['a:1', 3n]])],
  ]);
  const entries = [
    { split: 'a:0', offset: 0n, txIds: ['1'] },
    { split: 'a:0', offset: 2n, txIds: ['2'] },
    // key of tx 3 later changed by tx 2 on another split: the entry carries both
    { split: 'a:1', offset: 5n, txIds: ['3', '2'] },
  ];
  const cut = alignCut(entries, spans, (id) => id !== '2');
  assert.deepEqual([...cut].sort(), [['a:0', 2n], ['a:1', 3n]]);
});

test('alignCut: a complete transaction with a replaced record above a cut is held whole (found by the property test, seed 732426088)', () => {
  // p0: T0@0 (key 0), T1@1 (key 3), T2@2 (key 0, open); p1: T1@0 (key 3, replaced T1@p0:1 in the batch).
  const entries = [
    { split: 'p:0', offset: 2n, txIds: ['T0', 'T2'] },
    { split: 'p:1', offset: 0n, txIds: ['T1'] },
  ];
  const spans = new Map([
    ['T0', span([['p:0', 0n]])],
    ['T1', span([['p:0', 1n], ['p:1', 0n]])],
    ['T2', span([['p:0', 2n]])],
  ]);
  const cut = alignCut(entries, spans, (id) => id !== 'T2');
  // key 0 holds T2 and so T0 (p:0 from 0); T1's record at p:0@1 is then re-read after a crash, so T1 waits too.
  assert.deepEqual(new Map([...cut].sort()), new Map([['p:0', 0n], ['p:1', 0n]]));
});

test('alignCut: an entry met before its transaction was held is held too, whatever the entries\' order (found by the fast-path lane property test)', () => {
  // b is open: p:0 is cut at 0, which holds key 1 (c@2) and so c; key 2 on p:1 carries c
  // (it replaced c's change of key 2) and must wait with it, listed first or last.
  const spans = new Map([
    ['b', span([['p:0', 0n]])],
    ['c', span([['p:0', 1n]])],
    ['a', span([['p:1', 3n]])],
  ]);
  const key2 = { split: 'p:1', offset: 3n, txIds: ['c', 'a'] };
  const rest = [{ split: 'p:0', offset: 0n, txIds: ['b'] }, { split: 'p:0', offset: 2n, txIds: ['c'] }];
  for (const entries of [[key2, ...rest], [...rest, key2]]) {
    assert.deepEqual(new Map([...alignCut(entries, spans, (id) => id !== 'b')].sort()), new Map([['p:0', 0n], ['p:1', 3n]]));
  }
});

test('TransactionLog: END counts by routed table id; unknown before END, 0 for an untouched table', () => {
  const log = new TransactionLog(2);
  assert.equal(log.expected('7', 'public.a'), undefined);
  log.end('7', [{ table: 'public.a', eventCount: 2 }]);
  assert.equal(log.expected('7', 'public.a'), 2);
  assert.equal(log.expected('7', 'public.b'), 0);
  log.end('8', []);
  log.end('9', []);
  assert.equal(log.expected('7', 'public.a'), undefined, 'the oldest END is forgotten beyond capacity');
});

test('a flush holds back the open transaction and its checkpoint stops at its first offset', () => {
  const b = new BufferSet(limits);
  b.add(ev(1, 1, 'T1', 0, 0n), 1, 0);
  b.add(ev(2, 2, 'T1', 0, 1n), 1, 0);
  b.add(ev(3, 3, 'T2', 0, 2n), 1, 0);
  const ends = new Map([['T1', 2]]);
  const done = (id: string, s: TxnSpan) => (ends.get(id) ?? Infinity) <= s.seen;
  const batch = b.take('s.t', done);
  assert.ok(batch);
  assert.deepEqual(batch.events.map((e) => e.key?.['id']), [1, 2]);
  assert.equal(batch.held, 1);
  assert.deepEqual(batch.splits.get('topic:0'), { first: 0n, next: 2n });
  assert.equal(b.due(10_000).length, 0, 'the held rest waits for news, not for the clock');
  assert.equal(b.take('s.t', done)?.events.length ?? 0, 0);
  b.add(ev(4, 4, 'T2', 0, 3n), 1, 0);
  ends.set('T2', 2);
  const rest = b.take('s.t', done);
  assert.deepEqual(rest?.events.map((e) => e.key?.['id']), [3, 4]);
  assert.deepEqual(rest?.splits.get('topic:0'), { first: 2n, next: 4n });
  assert.equal(b.totalBytes, 0);
});

test('a key changed by a complete transaction and then by an open one holds both', () => {
  const b = new BufferSet(limits);
  b.add(ev(1, 1, 'T1', 0, 0n), 1, 0);
  b.add(ev(2, 2, 'T1', 0, 1n), 1, 0);
  b.add(ev(1, 3, 'T2', 1, 0n), 1, 0); // T2 on another partition replaces T1's change of key 1
  const ends = new Map([['T1', 2]]);
  const batch = b.take('s.t', (id, s) => (ends.get(id) ?? Infinity) <= s.seen);
  assert.equal(batch?.events.length ?? 0, 0, 'committing key 2 alone would show half of T1');
  assert.equal(batch?.held, 2);
});

test('a stale change of a complete transaction waits with the newer change of an open one', () => {
  const b = new BufferSet(limits);
  b.add(ev(0, 2, 'T1', 1, 0n), 1, 0); // T1 (open) read first from partition 1
  assert.equal(b.add(ev(0, 1, 'T0', 0, 0n), 1, 0), 'stale'); // T0 (complete) is older
  const batch = b.take('s.t', (id) => id === 'T0');
  // Committing partition 0 past T0 would make T0 committed while its key shows neither T0 nor T1.
  assert.equal(batch?.splits.get('topic:0'), undefined);
  assert.equal(batch?.events.length ?? 0, 0);
});

/** A source of transactions over `partitions` splits; `model` replays it through buffer + checkpoint with flushes and crashes. */
interface Txn {
  id: string;
  events: Array<{ key: number; partition: number; seq: number; offset: bigint }>;
}

function layout(txSpecs: Array<Array<[number, number]>>, partitions: number): { txns: Txn[]; logs: Array<Array<{ tx: Txn; i: number }>> } {
  const logs: Array<Array<{ tx: Txn; i: number }>> = Array.from({ length: partitions }, () => []);
  let seq = 1;
  const txns = txSpecs.map((spec, t) => {
    const tx: Txn = { id: `T${t}`, events: [] };
    for (const [key, p] of spec) {
      const part = p % partitions;
      const log = logs[part] as Array<{ tx: Txn; i: number }>;
      tx.events.push({ key, partition: part, seq: seq++, offset: BigInt(log.length) });
      log.push({ tx, i: tx.events.length - 1 });
    }
    return tx;
  });
  return { txns, logs };
}

test('property: no commit holds part of a transaction; across crashes nothing is lost and nothing is committed twice', () => {
  const txSpec = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(fc.array(txSpec, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.integer({ min: 0, max: 99 }), { maxLength: 120 }), (specs, partitions, actions) => {
      const { txns, logs } = layout(specs, partitions);
      const table = new Map<number, number>(); // key → seq
      const committedOffsets = new Set<string>();
      let checkpoint: Checkpoint = emptyCheckpoint();
      let buffer = new BufferSet(limits);
      let pos: bigint[] = [];
      let endsRead = 0;
      let ends = new Map<string, number>();
      const restart = (): void => {
        buffer = new BufferSet(limits);
        pos = logs.map((_, p) => checkpoint.splits.get(splitId('topic', p))?.next ?? 0n);
        endsRead = 0; // the transaction topic is read again from its start
        ends = new Map();
      };
      const done = (id: string, s: TxnSpan): boolean => (ends.get(id) ?? Infinity) <= s.seen;
      const flush = (): void => {
        const batch = buffer.take('s.t', done);
        if (!batch) return;
        for (const e of batch.events) {
          const where = `${e.origin.partition}@${e.origin.offset}`;
          assert.ok(!committedOffsets.has(where), `record ${where} committed twice`);
          committedOffsets.add(where);
          const seq = Number(e.position.ordering);
          if ((table.get(e.key?.['id'] as number) ?? 0) < seq) table.set(e.key?.['id'] as number, seq);
        }
        checkpoint = checkpointForCommit(checkpoint, batch.splits, batch.lastPosition, () => undefined);
        checkInvariant();
      };
      const below = (e: Txn['events'][number]): boolean => !isUnconsumed(checkpoint, splitId('topic', e.partition), e.offset);
      const checkInvariant = (): void => {
        const expected = new Map<number, number>();
        for (const tx of txns) {
          const n = tx.events.filter(below).length;
          assert.ok(n === 0 || n === tx.events.length, `${tx.id}: ${n} of ${tx.events.length} events behind the checkpoint`);
          if (n === 0) continue;
          for (const e of tx.events) if ((expected.get(e.key) ?? 0) < e.seq) expected.set(e.key, e.seq);
        }
        assert.deepEqual(new Map([...table].sort()), new Map([...expected].sort()));
      };
      const read = (p: number): void => {
        const at = pos[p] as bigint;
        const rec = logs[p]?.[Number(at)];
        if (!rec) return;
        pos[p] = at + 1n;
        const e = rec.tx.events[rec.i] as Txn['events'][number];
        const split = splitId('topic', p);
        if (!isUnconsumed(checkpoint, split, e.offset)) buffer.advance('s.t', split, e.offset, 0);
        else buffer.add(ev(e.key, e.seq, rec.tx.id, p, e.offset), 1, 0);
      };
      restart();
      for (const a of actions) {
        if (a < 60) read(a % partitions);
        else if (a < 80) {
          const tx = txns[endsRead];
          if (tx) {
            ends.set(tx.id, tx.events.length);
            endsRead++;
          }
        } else if (a < 95) flush();
        else restart();
      }
      // drain: everything read, every END read, flush
      for (let p = 0; p < partitions; p++) while ((pos[p] as bigint) < BigInt(logs[p]?.length ?? 0)) read(p);
      for (const tx of txns) ends.set(tx.id, tx.events.length);
      flush();
      for (const tx of txns) for (const e of tx.events) assert.ok(below(e), `${tx.id} event at ${e.partition}@${e.offset} never committed`);
      checkInvariant();
    }),
    { numRuns: 400, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH } : {}) },
  );
});
