/**
 * Avro decodeRecord of this tree next to another tree's (e.g. an extracted older commit)
 * and next to bare avsc, in one process, rounds alternated, so machine load hits all
 * three alike. Rates are records per CPU-second of this process (so a loaded machine's
 * waits do not count). Prints each side's median rate and its ratio to bare avsc.
 *   git archive <rev> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/
 *   node --import tsx bench/decode/avro-ab.ts /tmp/base [records=2000] [rounds=41] [insert|full-update]
 * Without a base directory (or with `-`) only this tree and bare avsc are timed. `full-update`
 * makes every record an update carrying the old row in `before` (REPLICA IDENTITY FULL).
 */
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as here from '../../src/debezium/index.js';
import type { KafkaRecordIn } from '../../src/debezium/index.js';
import { avroFramed, fixtureRegistry, keyType as keyT, many, payloads, valueType as valT } from './fixture.js';

type Api = Pick<typeof here, 'createDecodeContext' | 'decodeRecord' | 'resolveAvroSchemas'>;

const baseDir = process.argv[2] && process.argv[2] !== '-' ? resolve(process.argv[2]) : null;
const N = Number(process.argv[3] ?? 2000);
const ROUNDS = Number(process.argv[4] ?? 41);
const FULL_UPDATES = process.argv[5] === 'full-update';

const recs: KafkaRecordIn[] = payloads(N, FULL_UPDATES).map((p, i) => ({ topic: many.topic, partition: 0, offset: BigInt(i), ...avroFramed(p) }));

async function decoder(api: Api): Promise<(i: number) => unknown> {
  const ctx = api.createDecodeContext({ registry: fixtureRegistry });
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
console.log(`avro-ab: ${N} ${FULL_UPDATES ? 'full-update' : 'insert'} records, ${ROUNDS} rounds, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
cases.forEach((c, k) => {
  const sorted = [...(ratios[k] as number[])].sort((a, b) => a - b);
  const q = (f: number): string => (sorted[Math.floor(f * (sorted.length - 1))] as number).toFixed(2);
  console.log(`${c.name.padEnd(34)} ${Math.round(median(rates[k] as number[])).toString().padStart(8)} rec/s  ratio to bare: median ${median(ratios[k] as number[]).toFixed(2)} (quartiles ${q(0.25)}–${q(0.75)})`);
});
