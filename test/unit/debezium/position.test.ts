import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { flattenedPosition, isNewer, mysqlPosition, parsePgSequence, pgPosition } from '../../../src/debezium/position.js';

const pg = (op: string, snapshot: string | null, seq: [number | null, number] | null, lsn: number | null = null) =>
  pgPosition(op, { snapshot, sequence: seq === null ? null : JSON.stringify(seq.map((x) => (x === null ? null : String(x)))), lsn });

describe('positions', () => {
  it('PostgreSQL: snapshot reads rank below any streamed change; null commit LSN is lowest', () => {
    const snap = pg('r', 'last', [null, 900]);
    const streamedLow = pg('u', 'false', [null, 100]);
    assert.ok(isNewer(streamedLow, snap), 'a streamed change with a lower LSN still beats a snapshot read');
    assert.ok(!isNewer(snap, streamedLow));
    assert.equal(pg('c', null, null, 77).ordering, (1n << 62n) + 77n, 'null snapshot = streaming; lsn fallback');
    assert.equal(pg('r', 'incremental', null).unordered, true);
  });
  it('equal is not newer; undefined stored is always newer; unordered applies', () => {
    const a = pg('u', 'false', [1, 5]);
    assert.equal(isNewer(a, { ordering: a.ordering }), false);
    assert.equal(isNewer(a, undefined), true);
    assert.equal(isNewer(pg('r', 'incremental', null), { ordering: a.ordering }), true);
  });
  it('MySQL: ordering is monotone in (phase, file, pos, row) within the bit budget', () => {
    const arb = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 524287 }), fc.integer({ min: 4, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 4095 }));
    fc.assert(
      fc.property(arb, arb, (x, y) => {
        const mk = ([snap, f, p, r]: [boolean, number, number, number]) =>
          mysqlPosition(snap ? 'r' : 'u', { snapshot: snap ? 'true' : 'false', file: `mysql-bin.${String(f).padStart(6, '0')}`, pos: p, row: r });
        const cmp = (a: typeof x, b: typeof x): number => {
          const ka = [a[0] ? 0 : 1, a[1], a[2], a[3]];
          const kb = [b[0] ? 0 : 1, b[1], b[2], b[3]];
          for (let i = 0; i < 4; i++) if (ka[i]! !== kb[i]!) return ka[i]! < kb[i]! ? -1 : 1;
          return 0;
        };
        const ox = mk(x).ordering;
        const oy = mk(y).ordering;
        assert.ok(ox < 1n << 63n && ox >= 0n);
        assert.equal(Math.sign(Number(ox - oy)), cmp(x, y));
      }),
    );
  });
  it('MySQL row index beyond 4095 is clamped and out-of-budget positions are marked', () => {
    const p = mysqlPosition('u', { file: 'mysql-bin.000001', pos: 10, row: 9000 });
    assert.equal(p.ordering & 4095n, 4095n);
    assert.match(mysqlPosition('u', { file: 'mysql-bin.9999999', pos: 10, row: 0 }).text, /clamped/);
  });
  it('texts name phase and source coordinates (built from the ordering when asked)', () => {
    assert.equal(pg('u', 'false', [24023128, 24023184]).text, 'pg:1/24023128/24023184');
    assert.equal(pg('r', 'true', [null, 900]).text, 'pg:0/null/900');
    assert.equal(pg('c', null, null, 77).text, 'pg:1/null/77');
    assert.equal(pg('r', 'incremental', null).text, 'pg:incremental');
    assert.equal(mysqlPosition('u', { file: 'mysql-bin.000003', pos: 154, row: 2, gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23' }).text, 'mysql:1/mysql-bin.000003:154:2 gtid=3E11FA47-71CA-11E1-9E33-C80AA9429562:23');
    assert.equal(mysqlPosition('r', { snapshot: 'true', file: 'mysql-bin.000003', pos: 154 }).text, 'mysql:0/mysql-bin.000003:154:0');
    assert.equal(flattenedPosition('u', 4096).text, 'lsn:1/4096');
    assert.equal(flattenedPosition('r', '4096').text, 'lsn:0/4096');
  });
  it('PostgreSQL: ordering is monotone in (phase, lsn)', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), (s1, l1, s2, l2) => {
        const a = pgPosition(s1 ? 'r' : 'u', { snapshot: s1 ? 'true' : 'false', sequence: `[null,"${l1}"]` });
        const b = pgPosition(s2 ? 'r' : 'u', { snapshot: s2 ? 'true' : 'false', sequence: `[null,"${l2}"]` });
        const ka = (s1 ? 0n : 1n) * (1n << 62n) + l1;
        const kb = (s2 ? 0n : 1n) * (1n << 62n) + l2;
        assert.equal(isNewer(a, { ordering: b.ordering }), ka > kb);
      }),
    );
  });
});

describe('parsePgSequence', () => {
  // The reading the compact fast path must agree with: the full pattern (whitespace allowed, "" is null).
  const PATTERN = /^\[\s*(?:null|"(\d*)"|(\d+))\s*,\s*(?:null|"(\d*)"|(\d+))\s*\]$/;
  const el = (q?: string, b?: string): string | null => (q ?? b) || null;
  const reference = (s: string): unknown => {
    const m = PATTERN.exec(s);
    return m ? [el(m[1], m[2]), el(m[3], m[4])] : 'invalid';
  };
  const ours = (s: string): unknown => {
    try {
      return parsePgSequence(s);
    } catch {
      return 'invalid';
    }
  };
  it('reads every compact and spaced form like the full pattern', () => {
    const part = fc.oneof(
      fc.constant('null'),
      fc.constant('""'),
      fc.stringMatching(/^\d{1,20}$/),
      fc.stringMatching(/^\d{0,20}$/).map((d) => `"${d}"`),
      fc.constantFrom('"1', '1"', 'x', ' 1', '"1a"', '-1', '', '"', 'nul'),
    );
    fc.assert(
      fc.property(part, part, fc.constantFrom('', ' '), (a, b, sp) => {
        const s = `[${a},${sp}${b}]`;
        assert.deepEqual(ours(s), reference(s), s);
      }),
      { numRuns: 5000 },
    );
    assert.deepEqual(parsePgSequence('["24023928","24023960"]'), ['24023928', '24023960']);
    assert.equal(ours('[1,2,3]'), 'invalid');
  });
});

