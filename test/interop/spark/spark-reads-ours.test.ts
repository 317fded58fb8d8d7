/**
 * Interop with Spark 3.5 + Hudi 0.15 (the Java reader): the scenario tables we
 * write (see ../table/scenario.ts) read by Spark exactly as by our reader —
 * snapshot, read-optimized, time travel to every instant and incremental
 * between consecutive instants. All queries of a table run in one Spark session
 * (test/interop/spark/spark_batch.py): a JVM start costs minutes here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readIncremental, readSnapshot, type QueryResult } from '../../../src/table/reader.js';
import type { HudiTable } from '../../../src/table/table.js';
import { earliestRetainedInstant } from '../../../src/table/cleaner.js';
import { canonicalRows, disagreements, sparkBatch, type CanonicalRow, type EngineAnswer, type SparkQuery } from '../../support/oracle.js';
import { stackEnv } from '../../support/stack-env.js';
import { writeArchivedScenario, writeScenario } from '../table/scenario.js';

stackEnv(); // fail loudly when SPARK_PYTHON / HUDI_SPARK_BUNDLE are not configured

const canon = (res: QueryResult): CanonicalRow[] => canonicalRows(res.rows, res.schema);

/**
 * Time travel: Spark answers with the schema AS OF the instant, hudi-rs and our
 * reader with the latest schema (a later-added column reads as null). Both are
 * defensible; we follow hudi-rs. For as-of queries, drop from our rows the
 * columns Spark does not return — after checking they are null in every row and
 * are columns added later.
 */
function asOfSchemaOnly(ours: CanonicalRow[], theirs: CanonicalRow[], addedLater: readonly string[]): CanonicalRow[] {
  const first = theirs[0];
  if (first === undefined) return ours;
  const extra = Object.keys(ours[0] ?? {}).filter((c) => !(c in first));
  for (const c of extra) {
    assert.ok(addedLater.includes(c), `Spark lacks column ${c}, which is not a later-added column`);
    assert.ok(ours.every((r) => r[c] === null), `column ${c} is absent in Spark's as-of answer but not null in ours`);
  }
  return ours.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => !extra.includes(c))));
}

interface Check {
  what: string;
  query: SparkQuery;
  ours: (t: HudiTable) => Promise<QueryResult>;
}

function checksFor(table: HudiTable): Check[] {
  const checks: Check[] = [
    { what: 'snapshot', query: { mode: 'snapshot' }, ours: (t) => readSnapshot(t, { meta: true }) },
    { what: 'read-optimized', query: { mode: 'read_optimized' }, ours: (t) => readSnapshot(t, { meta: true, readOptimized: true }) },
  ];
  const instants = table.timeline.completed();
  for (const i of instants) {
    checks.push({ what: `snapshot as of ${i.timestamp} (${i.action})`, query: { mode: 'snapshot', asOf: i.timestamp }, ours: (t) => readSnapshot(t, { meta: true, asOf: i.timestamp }) });
  }
  const times = ['00000000000000000', ...instants.map((i) => i.timestamp)];
  for (let k = 1; k < times.length; k++) {
    const since = times[k - 1] as string;
    const until = times[k] as string;
    checks.push({ what: `incremental (${since}, ${until}]`, query: { mode: 'incremental', start: since, end: until }, ours: (t) => readIncremental(t, { meta: true, since, until }) });
  }
  return checks;
}

/** What Spark answered differently from our reader, one message per check. */
function sparkDisagreements(table: HudiTable, checks: readonly Check[], answers: readonly EngineAnswer[]): Promise<string[]> {
  return disagreements('spark', checks.map((c) => c.what), answers, async (i, theirs) => {
    const c = checks[i] as Check;
    const ours = canon(await c.ours(table));
    return c.query.asOf === undefined ? ours : asOfSchemaOnly(ours, theirs, ['note']);
  });
}

for (const partitioned of [false, true]) {
  describe(`Spark-Hudi reads a ${partitioned ? 'partitioned' : 'non-partitioned'} table we wrote as our reader does`, { timeout: 1_800_000 }, () => {
    it('every query agrees', { timeout: 1_800_000 }, async () => {
      const { dir, table } = await writeScenario(partitioned);
      const checks = checksFor(table);
      const failures = await sparkDisagreements(table, checks, await sparkBatch(dir, checks.map((c) => c.query)));
      assert.deepEqual(failures, [], failures.join('\n\n'));
    });
  });
}

describe('Spark-Hudi reads a table whose timeline we archived, and Hudi reads our archive', { timeout: 1_800_000 }, () => {
  it('every query agrees, and HoodieArchivedTimeline lists each archived instant with its metadata', { timeout: 1_800_000 }, async () => {
    const { dir, table, archived } = await writeArchivedScenario(true);
    const e = (await earliestRetainedInstant(table)) as string;
    const checks = checksFor(table).filter((c) => c.query.mode !== 'incremental' && (c.query.asOf === undefined || c.query.asOf >= e));
    const answers = await sparkBatch(dir, [...checks.map((c) => c.query), { mode: 'archived_timeline' }]);
    const failures = await sparkDisagreements(table, checks, answers);
    assert.deepEqual(failures, [], failures.join('\n\n'));

    const read = answers[checks.length];
    assert.ok(read !== undefined && 'rows' in read, `HoodieArchivedTimeline failed: ${read && 'error' in read ? read.error : 'no answer'}`);
    const completed = read.rows.filter((r) => r.state === 'COMPLETED');
    // A completed compaction is a `commit` to Hudi, as its file name says.
    assert.deepEqual(
      completed.map((r) => `${String(r.ts)}.${String(r.action)}`),
      archived.filter((i) => i.state === 'completed').map((i) => `${i.timestamp}.${i.compaction ? 'commit' : i.action}`),
    );
    for (const r of completed) {
      const details = JSON.parse(String(r.details)) as Record<string, unknown>;
      const what = `${String(r.ts)}.${String(r.action)}`;
      if (r.action === 'deltacommit') assert.equal(typeof (details.extraMetadata as Record<string, unknown>).schema, 'string', `${what}: schema in the archived metadata`);
      if (r.action === 'replacecommit') assert.ok(Object.keys(details.partitionToReplaceFileIds as object).length > 0, `${what}: replaced file groups`);
      if (r.action === 'clean') assert.match(String(details.earliestCommitToRetain), /^\d{17}$/, `${what}: earliest retained instant`);
    }
  });
});
