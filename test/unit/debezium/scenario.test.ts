import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDecodeContext, decodeRecord, isNewer } from '../../../src/debezium/index.js';
import type { Position } from '../../../src/debezium/index.js';
import type { Row } from '../../../src/table/schema.js';
import { loadJson, loadRecords } from './fixtures.js';

interface Expected {
  tables: Record<string, Row[]>;
  counts: { records: number; applied: number; skipped_stale_or_duplicate: number; ignored_tombstones: number };
  per_line_decisions: { line: number; decision: string }[];
  naive_result_for_negative_tests: Record<string, unknown>;
}

/** Decode + per-key `isNewer`, deletes remembered, tombstones ignored. */
function apply(ignorePositions: boolean): { tables: Map<string, Map<string, { row: Row | null; pos: Position }>>; decisions: string[] } {
  const ctx = createDecodeContext();
  const tables = new Map<string, Map<string, { row: Row | null; pos: Position }>>();
  const decisions: string[] = [];
  for (const rec of loadRecords('scenario-two-tables.jsonl')) {
    const d = decodeRecord(rec, ctx);
    if (d.kind === 'tombstone') {
      decisions.push('ignore');
      continue;
    }
    assert.equal(d.kind, 'change', d.kind === 'invalid' ? d.error.message : d.kind);
    if (d.kind !== 'change') continue;
    const ev = d.event;
    let t = tables.get(ev.table);
    if (!t) tables.set(ev.table, (t = new Map()));
    const k = JSON.stringify(ev.key);
    const stored = t.get(k);
    if (!ignorePositions && !isNewer(ev.position, stored?.pos)) {
      decisions.push('skip');
      continue;
    }
    decisions.push('apply');
    t.set(k, { row: ev.op === 'd' ? null : ev.row, pos: ev.position });
  }
  return { tables, decisions };
}

function finalRows(m: Map<string, { row: Row | null }> | undefined, key: string): Row[] {
  return [...(m?.values() ?? [])]
    .map((v) => v.row)
    .filter((r): r is Row => r !== null)
    .sort((a, b) => Number(a[key]) - Number(b[key]));
}

describe('scenario-two-tables.jsonl', () => {
  const expected = loadJson<Expected>('expected-final-state.json');
  it('yields exactly expected-final-state.json', () => {
    const { tables, decisions } = apply(false);
    assert.deepEqual(finalRows(tables.get('public.customers'), 'id'), expected.tables['public.customers']);
    assert.deepEqual(finalRows(tables.get('public.orders'), 'order_id'), expected.tables['public.orders']);
    const count = (d: string): number => decisions.filter((x) => x === d).length;
    assert.equal(decisions.length, expected.counts.records);
    assert.equal(count('apply'), expected.counts.applied);
    assert.equal(count('skip'), expected.counts.skipped_stale_or_duplicate);
    assert.equal(count('ignore'), expected.counts.ignored_tombstones);
    const perLine = expected.per_line_decisions.map((p) => (p.decision.startsWith('apply') ? 'apply' : p.decision.startsWith('skip') ? 'skip' : 'ignore'));
    assert.deepEqual(decisions, perLine);
  });
  it('without the position rule the result differs (the test can fail)', () => {
    const { tables } = apply(true);
    assert.notDeepEqual(finalRows(tables.get('public.orders'), 'order_id'), expected.tables['public.orders']);
  });
});
