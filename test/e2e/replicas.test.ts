// Two replicas in one consumer group (issue 5, scale-out): four PostgreSQL tables
// through real Debezium → Kafka → two `cdc-lake run` processes with the same
// group → S3. Proves, from the tables' timelines (every commit names its writer
// in extraMetadata["cdc-lake.writer"]: host, pid, group member):
// - both replicas own tables, and no table is written by both at once (per table,
//   the writers of its completed instants, in instant order, change hands only
//   when ownership does);
// - kill -9 of one → the other takes over its tables (takeover time printed;
//   the group session timeout dominates it), and the result is exact;
// - a paused zombie (SIGSTOP past the session timeout, the other takes over and
//   commits, then SIGCONT) cannot complete its in-flight commit (the fence
//   refuses it) and the tables stay exact.
// Exact = every table's snapshot equals PostgreSQL and `query changes` holds
// every change once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess, type CommitLogEntry, type DaemonSpec } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { sql } from '../support/postgres.js';
import { stackEnv } from '../support/stack-env.js';
import { lakeStore, openLakeTable } from '../../src/pipeline/lake.js';
import { WRITER_KEY } from '../../src/table/timeline.js';
import { decodeTimelineAvro } from '../../src/hudi/timeline-avro.js';
import type { HudiTable } from '../../src/table/table.js';
import { assertChangesOnce, assertKeyedTableEqual, createKeyedTable, eventually, keyedWorkload, lakeJsonl, type Workload } from './scenario.js';

const TABLES = 4;
/** The replicas' group session timeout: a killed replica's tables move after about this long. */
const SESSION_TIMEOUT_MS = 10_000;
/** Upper bound for a takeover: the session timeout + a heartbeat + a rejoin, with slack for a loaded machine. */
const TAKEOVER_BOUND_MS = 90_000;

interface Rig {
  tag: string;
  tables: string[];
  spec: DaemonSpec;
  connector: string;
  /** What the test started, for teardown. */
  load?: Workload | undefined;
  a?: DaemonProcess;
  b?: DaemonProcess;
  c?: DaemonProcess;
}

async function rig(name: string): Promise<Rig> {
  const tag = `${name}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const tables = Array.from({ length: TABLES }, (_v, i) => `public.e2e_${tag}_t${i}`);
  const prefix = `e2e${tag}`;
  const topics = tables.map((t) => `${prefix}.${t}`);
  for (const t of tables) await createKeyedTable(t, 20);
  const connector = `e2e_${tag}`;
  try {
    await registerPostgresConnector({ name: connector, tables, topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(connector);
    // A snapshot can take minutes when the shared machine is loaded.
    for (const t of topics) await waitForTopic(t, 240_000);
  } catch (e) {
    // the test's `finally` never sees a rig that failed: clean up here
    await teardown({ tag, tables, connector, spec: {} as DaemonSpec });
    throw e;
  }
  // Cleaning must keep every commit, or `query changes` from the start cannot be checked.
  const overrides = Object.fromEntries(tables.map((t) => [t, { retention: { commits: 100_000 } }]));
  const spec: DaemonSpec = { lake: `s3://${stackEnv().s3.bucket}/e2e/${tag}`, topics, groupId: `cdc-lake-${tag}`, sessionTimeoutMs: SESSION_TIMEOUT_MS, buffer: { maxAgeMs: 500 }, overrides };
  return { tag, tables, spec, connector };
}

async function teardown(r: Rig): Promise<void> {
  await r.load?.stop();
  for (const d of [r.a, r.b, r.c]) {
    d?.thaw();
    await d?.kill();
  }
  await deleteConnector(r.connector).catch(() => undefined);
  for (const t of r.tables) await sql(`drop table if exists ${t};`).catch(() => undefined);
}

/** Tables each replica committed to after `sinceMs`. */
function committedSince(d: DaemonProcess, sinceMs: number): Set<string> {
  return new Set(d.commits().filter((c) => c.atMs > sinceMs).map((c) => c.table));
}

/**
 * Waits until the two replicas split the tables: after `sinceMs` each commits to at
 * least one table, to no table of the other, and together to all of them.
 */
async function waitSplit(r: Rig, a: DaemonProcess, b: DaemonProcess, sinceMs: number): Promise<{ a: string[]; b: string[] }> {
  let from = sinceMs;
  return eventually(async () => {
    const ta = committedSince(a, from);
    const tb = committedSince(b, from);
    const both = [...ta].filter((t) => tb.has(t));
    if (both.length > 0) from = Date.now(); // a rebalance was still settling: look at a fresh window
    assert.deepEqual(both, [], `tables committed by both replicas after ${new Date(from).toISOString()}`);
    assert.ok(ta.size > 0 && tb.size > 0, `both replicas commit (A: ${[...ta].join(',')}; B: ${[...tb].join(',')})`);
    assert.equal(ta.size + tb.size, r.tables.length, `every table has a writer (A: ${[...ta].join(',')}; B: ${[...tb].join(',')})`);
    return { a: [...ta].sort(), b: [...tb].sort() };
  }, 90_000, 1000);
}

/** Waits until `d` committed to every table of `tables` after `sinceMs`; resolves to the first such commit's time. */
async function waitCommitsTo(d: DaemonProcess, tables: readonly string[], sinceMs: number, timeoutMs: number): Promise<number> {
  return eventually(async () => {
    const after = d.commits().filter((c) => c.atMs > sinceMs && tables.includes(c.table));
    const got = new Set(after.map((c) => c.table));
    assert.equal(got.size, tables.length, `${tables.length} tables taken over (so far: ${[...got].join(',')})`);
    return Math.min(...after.map((c) => c.atMs));
  }, timeoutMs, 500);
}

async function lakeTable(r: Rig, table: string): Promise<HudiTable> {
  const env = stackEnv();
  return openLakeTable(lakeStore({ uri: r.spec.lake, s3: { endpoint: env.s3.endpoint, region: env.s3.region, pathStyle: true } }), table);
}

/** Per completed deltacommit of `table`, in instant order: the writer its metadata names. */
async function writersOf(r: Rig, table: string): Promise<Array<{ instant: string; writer: { host: string; pid: number; member?: string } | undefined }>> {
  const t = await lakeTable(r, table);
  const out = [];
  for (const i of t.timeline.completed().filter((x) => x.action === 'deltacommit')) {
    const w = (await t.timeline.commitMetadata(i)).extraMetadata?.[WRITER_KEY];
    out.push({ instant: i.timestamp, writer: w === undefined ? undefined : (JSON.parse(w) as { host: string; pid: number; member?: string }) });
  }
  return out;
}

/** Completed instants of `table` that a completed rollback names as rolled back. */
async function completedButRolledBack(r: Rig, table: string): Promise<string[]> {
  const t = await lakeTable(r, table);
  const rolledBack = new Set<string>();
  for (const i of t.timeline.instants.filter((x) => x.action === 'rollback' && x.state === 'completed')) {
    for (const c of decodeTimelineAvro('HoodieRollbackMetadata', await t.store.get(t.timeline.instantPath(i))).commitsRollback) rolledBack.add(c);
  }
  return t.timeline.completed().filter((i) => rolledBack.has(i.timestamp)).map((i) => i.timestamp);
}

/**
 * One writer at a time, from the timeline: every completed deltacommit of a table names
 * its writer (cdc-lake.writer), that writer is one of the replicas, and in instant order
 * the runs of one writer (e.g. A×12 B×30 → "AB") match `allowed` — ownership moved only
 * the way the test moved it. The replicas' `committed` log lines must agree.
 */
async function assertOneWriterAtATime(r: Rig, replicas: Record<string, DaemonProcess>, allowed: RegExp): Promise<Record<string, string>> {
  const byPid = new Map(Object.entries(replicas).map(([name, d]) => [d.pid, name]));
  const logged = new Map<string, string>();
  for (const [name, d] of Object.entries(replicas)) for (const c of d.commits()) logged.set(`${c.table}@${c.instant}`, name);
  const runsOf = (ws: string[]): string => ws.filter((w, i) => i === 0 || w !== ws[i - 1]).join('');
  const sequences: Record<string, string> = {};
  for (const t of r.tables) {
    const commits = await writersOf(r, t);
    const writers = commits.map((c) => {
      assert.ok(c.writer !== undefined, `${t}@${c.instant} names its writer (${WRITER_KEY})`);
      const name = byPid.get(c.writer.pid);
      assert.ok(name !== undefined, `${t}@${c.instant} was written by pid ${c.writer.pid}, one of the replicas (${[...byPid.keys()].join(',')})`);
      const log = logged.get(`${t}@${c.instant}`);
      // a replica killed between completing and logging has no log line for its last commit
      if (log !== undefined) assert.equal(log, name, `${t}@${c.instant}: the log line and the commit metadata name the same writer`);
      return name;
    });
    const runs = runsOf(writers);
    sequences[t] = `${runs} (${writers.length} commits)`;
    assert.match(runs, allowed, `${t}: writers in instant order ${runs}`);
  }
  return sequences;
}

async function assertExact(r: Rig): Promise<string[]> {
  // Tables in parallel: each check is a few CLI runs, slow on a loaded machine.
  return Promise.all(
    r.tables.map(async (t) => {
      const rows = await assertKeyedTableEqual(r.spec.lake, t);
      const changes = await assertChangesOnce(r.spec.lake, t);
      return `${t}: ${rows} rows, ${changes} changes`;
    }),
  );
}

/**
 * Starts the workload and replica A, waits until A commits to every table, then starts
 * B in the same group and waits until the two split the tables.
 */
async function startPair(r: Rig): Promise<{ a: DaemonProcess; b: DaemonProcess; split: { a: string[]; b: string[] }; joinMs: number }> {
  r.load = keyedWorkload(r.tables, 40);
  const a = (r.a = await DaemonProcess.start(r.spec));
  await a.waitReady();
  await waitCommitsTo(a, r.tables, 0, 90_000);
  const bStart = Date.now();
  const b = (r.b = await DaemonProcess.start(r.spec));
  await b.waitReady();
  const joinMs = Date.now() - bStart;
  return { a, b, split: await waitSplit(r, a, b, Date.now()), joinMs };
}

/** Stops the workload; resolves to its transaction count. */
async function stopLoad(r: Rig): Promise<number> {
  const txs = (await r.load?.stop()) ?? 0;
  r.load = undefined;
  return txs;
}

function commitsOf(d: DaemonProcess, tables: readonly string[], sinceMs = 0): CommitLogEntry[] {
  return d.commits().filter((c) => tables.includes(c.table) && c.atMs > sinceMs);
}

test('two replicas in one group split the tables; kill -9 one → the other takes over, the tables stay exact', { timeout: 900_000 }, async () => {
  const r = await rig('rep_kill');
  try {
    const { a, b, split, joinMs } = await startPair(r);
    // /status shows the assignment: each replica's tables, and no table held by both. A commit
    // of the old owner still in flight at the rebalance can win the fence over the new owner's
    // first one, which loses the table until its re-assignment re-reads the checkpoint (seconds).
    let transient = '';
    await eventually(async () => {
      const [aStatus, bStatus] = [await a.status(), await b.status()];
      assert.ok(split.b.every((t) => t in bStatus.lastCommits), `B's /status names its tables: ${JSON.stringify(bStatus.lastCommits)}`);
      assert.ok(split.a.every((t) => t in aStatus.lastCommits), `A's /status names its tables: ${JSON.stringify(aStatus.lastCommits)}`);
      const lost = [...aStatus.assignment.lost, ...bStatus.assignment.lost];
      if (lost.length > 0) transient = `lost for a while: ${lost.join(',')}`;
      const held = [...aStatus.assignment.tables, ...bStatus.assignment.tables].filter((t) => r.tables.includes(t)).sort();
      assert.deepEqual(held, [...r.tables].sort(), `the assignments split the tables: A ${JSON.stringify(aStatus.assignment)} B ${JSON.stringify(bStatus.assignment)}`);
    }, 60_000, 1000);
    if (transient !== '') console.log(`replicas (kill): ${transient} (a commit raced the rebalance)`);

    const killAt = Date.now();
    await a.kill();
    const firstTakeover = await waitCommitsTo(b, split.a, killAt, TAKEOVER_BOUND_MS);
    const takeoverMs = firstTakeover - killAt;
    const allTakenMs = Math.max(...split.a.map((t) => Math.min(...commitsOf(b, [t], killAt).map((c) => c.atMs)))) - killAt;
    await sleep(3000); // the workload goes on under the survivor
    const txs = await stopLoad(r);
    await b.waitCaughtUp({ timeoutMs: 120_000, quietMs: 2000 });
    // Measurements first, so that a failing exactness check still reports them.
    console.log(
      [
        `replicas (kill): B joined in ${joinMs} ms; split A=${split.a.join(',')} B=${split.b.join(',')}`,
        `kill -9 A → B's first commit on A's tables after ${takeoverMs} ms, all ${split.a.length} taken over after ${allTakenMs} ms (session timeout ${SESSION_TIMEOUT_MS} ms dominates)`,
        `workload: ${txs} transactions`,
      ].join('\n'),
    );
    const sequences = await assertOneWriterAtATime(r, { A: a, B: b }, /^A?B?$/);
    console.log(`writers per table (instant order): ${JSON.stringify(sequences)}`);
    console.log((await assertExact(r)).join('\n'));
    assert.equal((await b.stop()).code, 0, b.logTail());
  } finally {
    await teardown(r);
  }
});

test('a paused zombie replica cannot complete its commit after the other took over; the tables stay exact', { timeout: 900_000 }, async () => {
  const r = await rig('rep_zombie');
  try {
    const { a, b, split } = await startPair(r);

    // Freeze A while it holds buffered rows of its tables: on SIGCONT its overdue flush runs first.
    const zombie = a;
    await eventually(async () => {
      const s = await zombie.status();
      assert.ok(s.buffers.some((x) => split.a.includes(x.table) && x.rows > 0), 'A has rows buffered for its tables');
    }, 30_000, 50);
    const frozenAt = Date.now();
    a.freeze();
    const survivor = b;
    const takenAt = await waitCommitsTo(b, split.a, frozenAt, TAKEOVER_BOUND_MS).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; B ${survivor.running ? 'running' : 'exited'}, its log:\n${survivor.logTail(40)}`);
    });
    await sleep(2000); // B commits A's tables a few more times
    const aCommitsBefore = commitsOf(a, r.tables).length;
    const thawAt = Date.now();
    a.thaw();
    // The zombie's overdue flush must be refused by the fence; it then stops (or rejoins).
    const fenced = await eventually(async () => {
      const hit = /InstantConflict|already exists: another writer committed|refused: another writer owns it/.exec(zombie.logs);
      assert.ok(hit, `the zombie's commit was refused by the fence (log tail:\n${zombie.logTail(10)})`);
      return hit[0];
    }, 60_000, 250);
    const zombieCommits = commitsOf(a, split.a, thawAt);
    await sleep(2000);
    const exit = a.running ? 'still running (rejoined the group)' : JSON.stringify(await a.exit());
    await sleep(2000);
    const txs = await stopLoad(r);
    // Either replica may have been fenced out meanwhile (a stalled survivor is a zombie too, and
    // exits 1 on the refused commit). Stop whoever runs and let a fresh replica C catch up.
    const ended: string[] = [];
    for (const [name, d] of [['A', a], ['B', b]] as const) ended.push(`${name}: ${d.running ? `stopped with ${JSON.stringify(await d.stop())}` : `had exited with ${JSON.stringify(await d.exit())}`}`);
    const c = (r.c = await DaemonProcess.start(r.spec));
    await c.waitCaughtUp({ timeoutMs: 240_000, quietMs: 2000 });
    console.log(
      [
        `replicas (zombie): split A=${split.a.join(',')} B=${split.b.join(',')}`,
        `SIGSTOP A → B committed A's tables after ${takenAt - frozenAt} ms; SIGCONT after ${thawAt - frozenAt} ms`,
        `zombie: ${aCommitsBefore} commits before the freeze; fence refused it (${fenced}); then ${exit}`,
        `workload: ${txs} transactions; ${ended.join('; ')}`,
      ].join('\n'),
    );
    // A commit the zombie logged right after SIGCONT was complete in storage before B took
    // the table (frozen after its completed file, before the log line): its instant precedes
    // B's first on that table. Dated by the log line alone, such a commit looked like a breach.
    const firstOfB = new Map<string, string>();
    for (const t of split.a) firstOfB.set(t, (await writersOf(r, t)).find((c) => c.writer?.pid === b.pid)?.instant ?? '');
    assert.deepEqual(
      zombieCommits.filter((z) => z.atMs < thawAt + 1000 && !(z.instant < (firstOfB.get(z.table) ?? ''))).map((z) => `${z.table}@${z.instant} (B from ${firstOfB.get(z.table)})`),
      [],
      'no commit of the zombie completed after the other took its table',
    );
    // A completed instant that a rollback also names has lost files: the takeover rolled a
    // commit back under a writer that then completed it.
    for (const t of r.tables) assert.deepEqual(await completedButRolledBack(r, t), [], `${t}: no completed instant was rolled back`);
    // After the zombie, ownership may move several times (rejoins, fenced-out replicas): each
    // completed instant still has one writer, which assertOneWriterAtATime checks first.
    const sequences = await assertOneWriterAtATime(r, { A: a, B: b, C: c }, /^[ABC]*$/);
    console.log(`writers per table (instant order): ${JSON.stringify(sequences)}`);
    console.log((await assertExact(r)).join('\n'));
    assert.equal((await c.stop()).code, 0, c.logTail());
  } finally {
    await teardown(r);
  }
});
