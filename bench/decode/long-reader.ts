/**
 * The Avro long reader alone, side by side in one run: the Debezium value schema of the
 * pg-many-types fixture decoded by avsc with (a) a `LongType.__with` type that unpacks
 * every long into an 8-byte Buffer (what src/debezium/avro.ts did before) and (b) our
 * exactLongType, which reads the varint from the tap. Same bodies, rounds alternated.
 * Run: node --import tsx bench/decode/long-reader.ts [records=2000] [rounds=7]
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { exactLongType, unpackingLongType } from '../../src/debezium/avro.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIX = join(here, '..', '..', '..', 'shared', 'fixtures', 'debezium');
const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 7);

const unpacking = unpackingLongType;

const fx = JSON.parse(readFileSync(join(FIX, 'pg-many-types.avro-schemas.json'), 'utf8')) as { registry_response: { value: { schema: string } } };
const many = JSON.parse(readFileSync(join(FIX, 'pg-many-types.json'), 'utf8')) as { value: { payload: { after: Record<string, unknown>; source: Record<string, unknown> } } };
const schema = JSON.parse(fx.registry_response.value.schema) as avro.Schema;
const slow = avro.Type.forSchema(schema, { wrapUnions: false, registry: { long: unpacking } });
const fast = avro.Type.forSchema(schema, { wrapUnions: false, registry: { long: exactLongType } });

const bodies: Buffer[] = [];
for (let i = 0; i < N; i++) {
  const v = structuredClone(many.value.payload) as Record<string, unknown> & { after: Record<string, unknown>; source: Record<string, unknown> };
  const a = v.after;
  a['id'] = 1000 + i;
  a['big_counter'] = 1_000_000_000_000 + i * 7919;
  a['price'] = Buffer.from(String(a['price']), 'base64');
  a['payload'] = Buffer.from(String(a['payload']), 'base64');
  const ratio = a['ratio'] as { scale: number; value: string };
  a['ratio'] = { scale: ratio.scale, value: Buffer.from(ratio.value, 'base64') };
  v.source['lsn'] = 34392480 + i * 64;
  bodies.push(fast.toBuffer(v));
}
// Both readers must agree before they are timed.
for (const b of bodies) {
  if (JSON.stringify(slow.fromBuffer(b), (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) !== JSON.stringify(fast.fromBuffer(b), (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))) {
    throw new Error('the two long readers disagree');
  }
}

function rate(t: avro.Type): number {
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < 3; r++) for (const b of bodies) t.fromBuffer(b);
  return (3 * N) / (Number(process.hrtime.bigint() - t0) / 1e9);
}
rate(slow);
rate(fast);
const s: number[] = [];
const f: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  s.push(rate(slow));
  f.push(rate(fast));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`Avro value decode, ${N} records, median of ${ROUNDS} rounds: unpacking long ${Math.round(median(s))} rec/s, exactLongType ${Math.round(median(f))} rec/s, ratio ${(median(f) / median(s)).toFixed(2)}`);
