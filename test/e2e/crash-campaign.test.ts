// Crash campaign (issue 5): while PostgreSQL takes inserts, updates and deletes,
// `kill -9` the daemon at random moments (E2E_CRASHES times, default 20) and
// restart it each time; then once more in the middle of uploading a multi-MB
// file to S3. After the final catch-up the table equals PostgreSQL, `query
// changes` from the beginning holds no change twice and ends, per key, at the
// snapshot's row, and the half-uploaded object does not exist.
//
// The mid-upload kill is made deterministic with a loopback TCP proxy in front of
// the S3 server (that daemon's S3 endpoint only): the proxy follows the HTTP
// requests, and the first PUT whose body is ≥ 1 MiB is forwarded up to half its
// body and then held; the test kills the daemon while the upload is held open,
// and the proxy drops the server side so the S3 server sees a truncated request.
//
// Prints per kill: the delay before it (random in KILL_DELAY_MS, counted from the
// operations server being up, or for every other kill from readiness), the commits
// that incarnation made, and its start-up time (spawn → operations server); then
// the catch-up time. `E2E_CRASHES=5` makes a quick run. The per-kill cost is
// dominated by the daemon's start-up (tsx compiles src on every spawn).
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DaemonProcess, type DaemonSpec } from '../support/daemon.js';
import { deleteConnector, registerPostgresConnector, waitForConnectorRunning, waitForTopic } from '../support/debezium.js';
import { sql } from '../support/postgres.js';
import { stackEnv, stackS3Client } from '../support/stack-env.js';
import { assertChangesOnce, assertKeyedTableEqual, createKeyedTable, keyedWorkload, retryOnDeadlock } from './scenario.js';

const CRASHES = Number(process.env['E2E_CRASHES'] ?? 20);
/** Kill delays after the operations server is up, uniformly random in this range (ms). */
const KILL_DELAY_MS: [number, number] = [300, 2500];
const LARGE_PUT_BYTES = 1 << 20;

interface HeldUpload {
  /** Request target, e.g. /bucket/e2e/…/file.parquet */
  path: string;
  bytes: number;
  forwarded: number;
}

/**
 * A TCP proxy to the S3 server that holds the first large PUT half-way. It parses
 * only request framing (request line, Content-Length); a connection that uses
 * chunked framing before the trigger is passed through untracked.
 */
class UploadHoldingProxy {
  private readonly server: Server;
  private readonly upstreams = new Set<Socket>();
  held: HeldUpload | undefined;
  private onHeld: ((h: HeldUpload) => void) | undefined;
  readonly heldUpload: Promise<HeldUpload>;
  armed = false;

  constructor(private readonly target: { host: string; port: number }) {
    this.heldUpload = new Promise((ok) => (this.onHeld = ok));
    this.server = createServer((client) => this.pipe(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    const addr = this.server.address();
    assert.ok(addr !== null && typeof addr === 'object');
    return `http://127.0.0.1:${addr.port}`;
  }

  private pipe(client: Socket): void {
    const up = connect(this.target.port, this.target.host);
    this.upstreams.add(up);
    up.on('close', () => this.upstreams.delete(up));
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    up.on('data', (d) => client.write(d));
    up.on('end', () => client.end());
    // On the client's side closing (the kill), drop the server side at once: a truncated request.
    client.on('close', () => up.destroy());
    let mode: 'headers' | 'body' | 'opaque' | 'held' = 'headers';
    let head = Buffer.alloc(0);
    let remaining = 0;
    let hold: HeldUpload | undefined;
    client.on('data', (chunk: Buffer) => {
      let buf = chunk;
      while (buf.length > 0) {
        if (mode === 'opaque') {
          up.write(buf);
          return;
        }
        if (mode === 'held') return;
        if (mode === 'body') {
          let n = Math.min(remaining, buf.length);
          if (hold !== undefined) n = Math.min(n, Math.max(0, Math.floor(hold.bytes / 2) - hold.forwarded));
          up.write(buf.subarray(0, n));
          remaining -= n;
          buf = buf.subarray(n);
          if (hold !== undefined) {
            hold.forwarded += n;
            if (hold.forwarded >= Math.floor(hold.bytes / 2)) {
              mode = 'held';
              this.held = hold;
              this.onHeld?.(hold);
              return;
            }
          }
          if (remaining === 0) mode = 'headers';
          continue;
        }
        head = Buffer.concat([head, buf]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = head.subarray(0, end).toString('latin1');
        up.write(head.subarray(0, end + 4));
        buf = head.subarray(end + 4);
        head = Buffer.alloc(0);
        const [method = '', path = ''] = (text.split('\r\n')[0] ?? '').split(' ');
        const len = /\r\ncontent-length:\s*(\d+)/i.exec(text);
        if (len === null) {
          mode = /\r\ntransfer-encoding:/i.test(text) ? 'opaque' : 'headers';
          continue;
        }
        remaining = Number(len[1]);
        mode = remaining > 0 ? 'body' : 'headers';
        if (this.armed && this.held === undefined && method === 'PUT' && remaining >= LARGE_PUT_BYTES) {
          this.armed = false;
          hold = { path, bytes: remaining, forwarded: 0 };
        }
      }
    });
  }

  async close(): Promise<void> {
    for (const u of this.upstreams) u.destroy();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

/**
 * A multi-MB change set in one transaction: every row's note becomes 8 KiB of random
 * hex (uncompressible), and 300 new rows of that size arrive, so one flush writes files
 * of several MiB. `round` keeps the new keys of repeated calls apart.
 */
async function bigUpdate(qualified: string, round: number): Promise<void> {
  const note = (id: string): string => `(select string_agg(md5(random()::text || ${id}::text || g::text), '') from generate_series(1, 256) g)`;
  const from = 1_000_000 + round * 1000;
  await retryOnDeadlock(() => sql(
    `begin;
     update ${qualified} set note = ${note('id')};
     insert into ${qualified} select i, i, ${note('i')} from generate_series(${from}, ${from + 299}) i;
     commit;`,
  ));
}

test(`crash campaign: kill -9 the daemon ${CRASHES}× during a workload and once mid-upload; the table equals PostgreSQL, no change applied twice`, { timeout: 600_000 + CRASHES * 90_000 }, async () => {
  assert.ok(Number.isInteger(CRASHES) && CRASHES >= 1, `E2E_CRASHES=${process.env['E2E_CRASHES']} is not a positive integer`);
  const tag = `crash_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
  const qualified = `public.e2e_${tag}`;
  const prefix = `e2e${tag}`;
  const topic = `${prefix}.${qualified}`;
  const lake = `s3://${stackEnv().s3.bucket}/e2e/${tag}`;
  // Cleaning must keep every commit, or `query changes` from the start cannot be checked.
  const spec: DaemonSpec = { lake, topics: [topic], groupId: `cdc-lake-${tag}`, buffer: { maxAgeMs: 300 }, overrides: { [qualified]: { retention: { commits: 100_000 } } } };
  await createKeyedTable(qualified);
  let daemon: DaemonProcess | undefined;
  const s3 = new URL(stackEnv().s3.endpoint);
  const proxy = new UploadHoldingProxy({ host: s3.hostname, port: Number(s3.port || 80) });
  let restarts = 0;
  // A fresh consumer group per incarnation: the killed member would hold the group's
  // assignment until its session times out (30 s); positions come from the table anyway.
  const start = async (extra: Partial<DaemonSpec> = {}): Promise<{ d: DaemonProcess; startMs: number }> => {
    const t0 = Date.now();
    const d = await DaemonProcess.start({ ...spec, ...extra, groupId: `${spec.groupId}-${restarts++}` });
    return { d, startMs: Date.now() - t0 };
  };
  try {
    await registerPostgresConnector({ name: `e2e_${tag}`, tables: [qualified], topicPrefix: prefix, schemas: true });
    await waitForConnectorRunning(`e2e_${tag}`);
    await waitForTopic(topic, 90_000);
    const load = keyedWorkload([qualified], 50);
    const kills: { afterMs: number; commits: number; startMs: number }[] = [];
    const campaignStart = Date.now();
    let held: HeldUpload | undefined;
    let midUploadCommits = 0;
    try {
      const proxyUrl = await proxy.listen();
      let { d, startMs } = await start();
      daemon = d;
      for (let i = 0; i < CRASHES; i++) {
        // Every other kill counts its delay from readiness (joined, positions read), so half the
        // kills land in steady ingest (commits every maxAgeMs) and half anywhere in start-up.
        const fromReady = i % 2 === 1;
        if (fromReady) await daemon.waitReady();
        const afterMs = randomInt(KILL_DELAY_MS[0], KILL_DELAY_MS[1] + 1);
        await sleep(afterMs);
        assert.ok(daemon.running, `daemon died by itself before kill ${i + 1}:\n${daemon.logTail()}`);
        await daemon.kill();
        kills.push({ afterMs, commits: daemon.commits().length, startMs });
        console.log(`kill ${i + 1}/${CRASHES}: ${afterMs} ms after ${fromReady ? 'readiness' : 'the operations server was up'} (start-up ${startMs} ms), ${daemon.commits().length} commits (${Date.now() - campaignStart} ms into the campaign)`);
        // The last incarnation talks to S3 through the proxy, which will hold its first ≥ 1 MiB PUT.
        ({ d, startMs } = await start(i === CRASHES - 1 ? { s3Endpoint: proxyUrl } : {}));
        daemon = d;
      }

      // Mid-upload kill.
      await daemon.waitReady();
      proxy.armed = true;
      for (let attempt = 0; attempt < 3 && proxy.held === undefined; attempt++) {
        await bigUpdate(qualified, attempt);
        await Promise.race([proxy.heldUpload, sleep(30_000)]);
      }
      held = proxy.held;
      assert.ok(held !== undefined, `no PUT of ≥ ${LARGE_PUT_BYTES} bytes within 3 big updates:\n${daemon.logTail()}`);
      assert.ok(daemon.running, `daemon died while its upload was held:\n${daemon.logTail()}`);
      midUploadCommits = daemon.commits().length;
      await daemon.kill();
      console.log(`mid-upload kill: PUT ${held.path} held at ${held.forwarded}/${held.bytes} bytes (${Date.now() - campaignStart} ms into the campaign)`);
      ({ d } = await start());
      daemon = d;
    } finally {
      const txs = await load.stop();
      assert.ok(txs > CRASHES, `the workload ran (${txs} transactions)`);
    }
    const campaignMs = Date.now() - campaignStart;
    const catchUpStart = Date.now();
    await daemon.waitCaughtUp({ timeoutMs: 120_000, quietMs: 1500 });
    const catchUpMs = Date.now() - catchUpStart;

    const rows = await assertKeyedTableEqual(lake, qualified, 90_000);
    const changes = await assertChangesOnce(lake, qualified);
    // The truncated PUT left no object behind (the S3 server dropped it, rollback found only its marker).
    const heldKey = decodeURIComponent((held as HeldUpload).path.split('?')[0] ?? '').replace(`/${stackEnv().s3.bucket}/`, '');
    const exists = await stackS3Client()
      .send(new HeadObjectCommand({ Bucket: stackEnv().s3.bucket, Key: heldKey }))
      .then(() => true, () => false);
    assert.equal(exists, false, `the half-uploaded object ${heldKey} must not exist`);

    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    console.log(
      [
        `crash campaign: ${kills.length} random kills + 1 mid-upload kill in ${campaignMs} ms; catch-up after the last restart ${catchUpMs} ms`,
        `kill delays (ms): ${kills.map((k) => k.afterMs).join(' ')}`,
        `commits per incarnation: ${kills.map((k) => k.commits).join(' ')} (${kills.filter((k) => k.commits > 0).length}/${kills.length} incarnations committed before their kill)`,
        `start-up (spawn → operations server, ms): median ${median(kills.map((k) => k.startMs))}, max ${Math.max(...kills.map((k) => k.startMs))}`,
        `mid-upload: held PUT ${heldKey} at ${(held as HeldUpload).forwarded}/${(held as HeldUpload).bytes} bytes after ${midUploadCommits} commits of that incarnation`,
        `result: ${rows} rows equal PostgreSQL; ${changes} changes, none twice`,
      ].join('\n'),
    );
    assert.equal((await daemon.stop()).code, 0, daemon.logTail());
  } finally {
    await daemon?.kill();
    await proxy.close().catch(() => undefined);
    await deleteConnector(`e2e_${tag}`).catch(() => undefined);
    await sql(`drop table if exists ${qualified};`).catch(() => undefined);
  }
});
