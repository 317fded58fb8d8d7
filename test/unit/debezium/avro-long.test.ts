// exactLongType reads every zigzag varint long exactly: a number while |v| <= 2^53 - 1, a
// bigint beyond, whatever the varint's length (including non-canonical padded encodings).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exactLongType } from '../../../src/debezium/avro.js';

/** Zigzag varint bytes of a signed 64-bit value, with `pad` extra 0x80 continuation bytes before a final 0x00. */
function varint(v: bigint, pad = 0): Buffer {
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  do {
    const b = Number(u & 0x7fn);
    u >>= 7n;
    out.push(u > 0n ? b | 0x80 : b);
  } while (u > 0n);
  if (pad > 0) {
    out[out.length - 1] = (out[out.length - 1] as number) | 0x80;
    for (let i = 1; i < pad; i++) out.push(0x80);
    out.push(0);
  }
  return Buffer.from(out);
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const expected = (v: bigint): number | bigint => (v >= -SAFE && v <= SAFE ? Number(v) : v);

const edges: bigint[] = [0n, 1n, -1n, 63n, -64n, 64n, (1n << 27n) - 1n, 1n << 27n, -(1n << 27n) - 1n, (1n << 47n) - 1n, 1n << 47n, -(1n << 47n), -(1n << 47n) - 1n];
for (const p of [48n, 52n, 53n, 55n, 56n, 62n]) for (const d of [-2n, -1n, 0n, 1n]) edges.push((1n << p) + d, -(1n << p) - d);
edges.push(SAFE, -SAFE, SAFE + 1n, -SAFE - 1n, SAFE + 2n, (1n << 63n) - 1n, -(1n << 63n));
// Microsecond and nanosecond epoch timestamps, the longs Debezium sends most.
edges.push(1749546927654321n, -1749546927654321n, 1749546928006120000n);

describe('exactLongType', () => {
  it('reads edge values and every varint length exactly (number while safe, bigint beyond)', () => {
    for (const v of edges) {
      const got: unknown = exactLongType.fromBuffer(varint(v));
      assert.equal(typeof got, typeof expected(v), `type of ${v}`);
      assert.equal(got, expected(v), `value of ${v}`);
    }
  });

  it('random values of every magnitude round-trip', () => {
    let x = 0x243f6a8885a308d3n;
    for (let i = 0; i < 5000; i++) {
      x = BigInt.asUintN(64, x * 6364136223846793005n + 1442695040888963407n);
      const v = BigInt.asIntN(64, x) >> BigInt(i % 64);
      assert.equal(exactLongType.fromBuffer(varint(v)), expected(v), `value of ${v}`);
    }
  });

  it('non-canonical padded encodings read the same value', () => {
    for (const v of [0n, 5n, -300n, 1n << 40n, 1749546927654321n]) {
      for (const pad of [1, 2, 3]) {
        const b = varint(v, pad);
        if (b.length > 10) continue;
        assert.equal(exactLongType.fromBuffer(b), expected(v), `value of ${v} padded by ${pad}`);
      }
    }
  });
});
