/**
 * Avro decodeRecord of this tree next to another tree's (e.g. an extracted older commit)
 * and next to bare avsc, in one process, rounds alternated, so machine load hits all
 * three alike. Rates are records per CPU-second of this process (so a loaded machine's
 * waits do not count). Prints each side's median rate and its ratio to bare avsc.
 *   git archive <rev> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/
 *   node --import tsx bench/decode/avro-ab.ts /tmp/base [records=2000] [rounds=41]
 * Without a base directory only this tree and bare avsc are timed.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import avro from 'avsc';
import * as here from '../../src/debezium/index.js';
import type { KafkaRecordIn } from '../../src/debezium/index.js';
import { exactLongType } from '../../src/debezium/avro.js';

type Api = Pick<typeof here, 'createDecodeContext' | 'decodeRecord' | 'resolveAvroSchemas'>;

const dir = dirname(fileURLToPath(import.meta.url));
const FIX = join(dir, '..', '..', '..', 'shared', 'fixtures', 'debezium');
const baseDir = process.argv[2] && process.argv[2] !== '-' ? resolve(process.argv[2]) : null;
const N = Number(process.argv[3] ?? 2000);
const ROUNDS = Number(process.argv[4] ?? 41);

const many = JSON.parse(readFileSync(join(FIX, 'pg-many-types.json'), 'utf8')) as {
  topic: string;
  value: { payload: { after: Record<string, unknown>; source: Record<string, unknown> } & Record<string, unknown> };
};
const fx = JSON.parse(readFileSync(join(FIX, 'pg-many-types.avro-schemas.json'), 'utf8')) as {
  registry_response: { key: { id: number; schema: string }; value: { id: number; schema: string } };
};
const keyT = avro.Type.forSchema(JSON.parse(fx.registry_response.key.schema) as avro.Schema, { wrapUnions: false, registry: { long: exactLongType } });
const valT = avro.Type.forSchema(JSON.parse(fx.registry_response.value.schema) as avro.Schema, { wrapUnions: false, registry: { long: exactLongType } });

const frame = (id: number, body: Buffer): Buffer => {
  const h = Buffer.alloc(5);
  h.writeUInt32BE(id, 1);
  return Buffer.concat([h, body]);
};

/** N distinct records (same variation as run.ts), Confluent-framed. */
const recs: KafkaRecordIn[] = [];
for (let i = 0; i < N; i++) {
  const v = structuredClone(many.value.payload);
  const a = v.after;
  a['id'] = 1000 + i;
  a['qty'] = i % 300;
  a['big_counter'] = 1_000_000_000_000 + i * 7919;
  a['score'] = i * 1.25;
  a['note'] = i % 3 === 0 ? null : `note ${i} ${'x'.repeat(i % 40)}`;
  a['tags'] = ['new', `t${i % 17}`];
  const lsn = 34392480 + i * 64;
  v.source['lsn'] = lsn;
  v.source['sequence'] = `["${lsn - 64}","${lsn}"]`;
  a['price'] = Buffer.from(String(a['price']), 'base64');
  a['payload'] = Buffer.from(String(a['payload']), 'base64');
  const ratio = a['ratio'] as { scale: number; value: string };
  a['ratio'] = { scale: ratio.scale, value: Buffer.from(ratio.value, 'base64') };
  recs.push({ topic: many.topic, partition: 0, offset: BigInt(i), key: frame(fx.registry_response.key.id, keyT.toBuffer({ id: 1000 + i })), value: frame(fx.registry_response.value.id, valT.toBuffer(v)) });
}

async function decoder(api: Api): Promise<(i: number) => unknown> {
  const ctx = api.createDecodeContext({
    registry: { schemaById: (id) => Promise.resolve(id === fx.registry_response.key.id ? fx.registry_response.key.schema : fx.registry_response.value.schema) },
  });
  await api.resolveAvroSchemas(recs[0] as KafkaRecordIn, ctx);
  return (i) => {
    const d = api.decodeRecord(recs[i] as KafkaRecordIn, ctx);
    if (d.kind !== 'change') throw new Error(`record ${i} decoded as ${d.kind}`);
    return d;
  };
}

let sink = 0;
const cases: Array<{ name: string; fn: (i: number) => unknown }> = [{ name: 'this tree', fn: await decoder(here) }];
if (baseDir) cases.push({ name: `base ${baseDir}`, fn: await decoder((await import(pathToFileURL(join(baseDir, 'src/debezium/index.ts')).href)) as Api) });
cases.push({
  name: 'bare avsc',
  fn: (i) => {
    const r = recs[i] as KafkaRecordIn;
    keyT.decode(r.key as Buffer, 5);
    sink += valT.decode(r.value as Buffer, 5).offset > 0 ? 1 : 0;
    return sink;
  },
});

/** Records per CPU-second of this process (user + system): waiting for a core under load does not count. */
const pass = (fn: (i: number) => unknown): number => {
  const t0 = process.cpuUsage();
  for (let j = 0; j < N; j++) fn(j);
  const d = process.cpuUsage(t0);
  return N / ((d.user + d.system) / 1e6);
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

for (let w = 0; w < 3; w++) for (const c of cases) pass(c.fn); // warm-up
const rates = cases.map(() => [] as number[]);
const ratios = cases.map(() => [] as number[]);
for (let r = 0; r < ROUNDS; r++) {
  const round = cases.map((c) => pass(c.fn));
  const bare = round[round.length - 1] as number;
  round.forEach((x, k) => {
    (rates[k] as number[]).push(x);
    (ratios[k] as number[]).push(x / bare);
  });
}
console.log(`avro-ab: ${N} records, ${ROUNDS} rounds, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
cases.forEach((c, k) => {
  const sorted = [...(ratios[k] as number[])].sort((a, b) => a - b);
  const q = (f: number): string => (sorted[Math.floor(f * (sorted.length - 1))] as number).toFixed(2);
  console.log(`${c.name.padEnd(34)} ${Math.round(median(rates[k] as number[])).toString().padStart(8)} rec/s  ratio to bare: median ${median(ratios[k] as number[]).toFixed(2)} (quartiles ${q(0.25)}–${q(0.75)})`);
});
