/**
 * Interop with Trino 476's own Hudi connector: the scenario tables we write (see
 * ../table/scenario.ts), partitioned and not, and the same tables once their timeline
 * was archived, registered in a file metastore as a Hive sync would register them and
 * read with `SELECT *`, equal our read-optimized reads — every column type, the
 * `_hoodie_*` fields, partition columns from the folders — but timestamps, which Trino's
 * Hudi connector reads as timestamp(3): ours are compared cut to milliseconds. Trino 476 reads Merge-On-Read
 * tables read-optimized only (base files; trinodb/trino#14432): changes still in log
 * files reach Trino with the next compaction (docs/table-format.md). One Trino start for
 * all four tables (a JVM start costs ~10 s here).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import type { Row } from '../../../src/table/schema.js';
import { canonicalRows, disagreements, trinoBatch } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { writeArchivedScenario, writeScenario } from '../table/scenario.js';

stackEnv(); // fail loudly when TRINO_HOME / TRINO_JAVA_HOME are not configured

/** Our rows with timestamp-micros values cut to milliseconds, as Trino's Hudi connector reads them (timestamp(3)). */
function toMillis(res: QueryResult): Row[] {
  const micros = res.schema.fields.filter((f) => JSON.stringify(f.type).includes('"timestamp-micros"')).map((f) => f.name);
  return res.rows.map((r) => {
    const out: Row = { ...r };
    for (const c of micros) {
      const v = out[c];
      // number while exact, bigint beyond 2^53 (the Value contract)
      if (typeof v === 'bigint') out[c] = v - (((v % 1000n) + 1000n) % 1000n);
      else if (typeof v === 'number') out[c] = Math.floor(v / 1000) * 1000;
    }
    return out;
  });
}

test('Trino reads the tables we write (partitioned and not, archived timelines too) as our read-optimized reader does', { timeout: 400_000 }, async () => {
  const tables = [
    { what: 'non-partitioned', ...(await writeScenario(false)) },
    { what: 'partitioned', ...(await writeScenario(true)) },
    { what: 'non-partitioned, archived', ...(await writeArchivedScenario(false)) },
    { what: 'partitioned, archived', ...(await writeArchivedScenario(true)) },
  ];
  const answers = await trinoBatch(tables.map((t) => t.dir));
  const failures = await disagreements('trino', tables.map((t) => t.what), answers, async (i) => {
    const t = tables[i] as (typeof tables)[number];
    const res = await readSnapshot(t.table, { meta: true, readOptimized: true });
    const ours = canonicalRows(toMillis(res), res.schema);
    assert.ok(ours.length > 0, `${t.what}: the scenario leaves rows in base files`);
    return ours;
  });
  assert.deepEqual(failures, []);
});
