import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import type { Logger } from '../logging.js';
import { consumerLag, createMetrics, startOpsServer, type DecodeErrorReason, type Lag, type Metrics, type OpsServer } from '../server/index.js';
import type { InvalidReason } from '../debezium/invalid-record.js';
import { SchemaRegistryError } from '../debezium/schema-registry.js';
import { Backoff, type BackoffPolicy } from '../source/backoff.js';
import { KafkaSource } from '../source/kafka.js';
import { DeadLetterTopicError, KafkaDeadLetterSink } from '../source/kafka-dead-letters.js';
import { kafkaConnection } from '../source/kafka-connection.js';
import { parseSplitId, type Source } from '../source/source.js';
import { StorageError, type ObjectStore } from '../storage/object-store.js';
import { lakeStore } from './lake.js';
import { Pipeline, type RunSummary } from './pipeline.js';

/**
 * `cdc-lake run`: the long-running service. Wires the Kafka source, the
 * pipeline and the operations server, and stops gracefully on SIGTERM/SIGINT:
 * stop fetching, flush and commit what is buffered, leave the group, exit.
 * An outage of storage, the schema registry or the dead-letter topic that outlasts
 * their retries stops the pipeline; the daemon then starts a new one (source and pipeline) after a
 * backoff, which resumes from the tables' checkpoints as a restarted process would.
 */

export interface DaemonParts {
  config: Config;
  logger: Logger;
  /** Tests may pass their own source (a new one for each run) or store; by default both come from the config. */
  source?: () => Source;
  store?: ObjectStore;
}

/** Waits between restarts after an outage: 1 s doubling to 1 min (reset by a commit). */
export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

/** What an outage that stopped the pipeline was of: the parts whose failures waiting can end. */
export type OutageCause = 'storage' | 'schema-registry' | 'dead-letter-topic';

/**
 * The outage behind a pipeline failure (the error or one of its causes), or undefined
 * for a failure restarting cannot fix (a refused request, bad configuration, a bug).
 */
export function outageOf(e: unknown): OutageCause | undefined {
  for (let c = e, depth = 0; c instanceof Error && depth < 8; c = c.cause, depth++) {
    if (c instanceof StorageError) return c.outage ? 'storage' : undefined;
    if (c instanceof SchemaRegistryError) return c.outage ? 'schema-registry' : undefined;
    if (c instanceof DeadLetterTopicError) return c.outage ? 'dead-letter-topic' : undefined;
  }
  return undefined;
}

const summed = (a: RunSummary, b: RunSummary): RunSummary => ({
  records: a.records + b.records,
  fastPath: a.fastPath + b.fastPath,
  changes: a.changes + b.changes,
  deadLetters: a.deadLetters + b.deadLetters,
  commits: a.commits + b.commits,
  skippedByCheckpoint: a.skippedByCheckpoint + b.skippedByCheckpoint,
});

export class Daemon {
  readonly metrics: Metrics = createMetrics();
  readonly store: ObjectStore;
  /** The current run: a new source and pipeline after each outage. */
  private current: { source: Source; pipeline: Pipeline };
  /** Counts of the runs an outage ended (the status and the returned summary add them up). */
  private earlier: RunSummary = { records: 0, fastPath: 0, changes: 0, deadLetters: 0, commits: 0, skippedByCheckpoint: 0 };
  private readonly deadLetterSink: KafkaDeadLetterSink | undefined;
  private readonly restarts = new Backoff(RESTART_BACKOFF);
  /** While waiting to restart after an outage: what happened (for /readyz). */
  private restarting: string | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private server: OpsServer | undefined;
  private storage = { reachable: true, error: undefined as string | undefined };
  private readonly lastCommitAt = new Map<string, number>();
  private probe: NodeJS.Timeout | undefined;
  private gauges: NodeJS.Timeout | undefined;
  private lagTimer: NodeJS.Timeout | undefined;
  private readonly buffered = new Set<string>();
  /** File groups the key index budget had dropped at the last gauge update. */
  private keyIndexDropped = 0;
  /** Last consumer lag read from the brokers (empty for sources without end offsets). */
  private lag: Lag = { partitions: new Map(), tables: new Map() };
  private readonly lagLabels = new Set<string>();

  constructor(private readonly parts: DaemonParts) {
    const { config } = parts;
    this.store = parts.store ?? lakeStore(config.lake);
    this.deadLetterSink =
      config.deadLetters.kafkaTopic && config.kafka
        ? new KafkaDeadLetterSink(config.deadLetters.kafkaTopic, kafkaConnection(config.kafka, `${config.kafka.clientId}-dead-letters`))
        : undefined;
    this.current = this.newRun();
  }

  get source(): Source {
    return this.current.source;
  }

  get pipeline(): Pipeline {
    return this.current.pipeline;
  }

  /** A source and a pipeline that starts from the tables' checkpoints. */
  private newRun(): { source: Source; pipeline: Pipeline } {
    const { config, logger } = this.parts;
    const source = this.parts.source?.() ?? kafkaSource(config, logger);
    const pipeline = new Pipeline({
      store: this.store,
      config,
      logger,
      writer: () => {
        const member = source.memberId?.();
        return { host: hostname(), pid: process.pid, ...(member ? { member } : {}) };
      },
      ...(this.deadLetterSink ? { deadLetterSink: this.deadLetterSink } : {}),
      events: {
        onCommit: (table, _instant, rows, ms) => {
          this.restarts.reset();
          this.metrics.commits.inc({ table, action: 'deltacommit' });
          this.metrics.commitLatency.observe({ table }, ms / 1000);
          this.metrics.recordsOut.inc({ table }, rows);
          this.metrics.lastCommitTime.set({ table }, Date.now() / 1000);
          this.lastCommitAt.set(table, Date.now());
          this.metrics.transactionHeldRows.set({ table }, 0);
        },
        onDeadLetter: (l) => {
          this.metrics.deadLetters.inc({ table: l.error.table ?? '', reason: l.error.reason });
          this.metrics.decodeErrors.inc({ reason: decodeErrorReason(l.error.reason) });
        },
        onChange: (table) => this.metrics.recordsIn.inc({ table }),
        onFileWritten: (table, kind, bytes) => {
          this.metrics.filesWritten.inc({ table, kind });
          this.metrics.bytesWritten.inc({ table, kind }, bytes);
        },
        onPaused: (count) => this.metrics.pausedPartitions.set(count),
        onMaintenancePause: (table, ms) => this.metrics.maintenancePause.observe({ table }, ms / 1000),
        onHeld: (table, rows) => {
          this.metrics.transactionHeldRows.set({ table }, rows);
          this.metrics.transactionHolds.inc({ table });
        },
        onMaintenance: (table, r) => {
          if (r.compaction?.instant) {
            this.metrics.compactionDuration.observe({ table }, r.compaction.ms / 1000);
            this.metrics.commits.inc({ table, action: 'compaction' });
          }
          if (r.clean?.instant) {
            this.metrics.cleanDuration.observe({ table }, r.clean.ms / 1000);
            this.metrics.commits.inc({ table, action: 'clean' });
          }
          if (r.archive) this.metrics.archivedInstants.inc({ table }, r.archive.instants);
        },
      },
    });
    return { source, pipeline };
  }

  async start(): Promise<RunSummary> {
    const { config, logger } = this.parts;
    this.server = await startOpsServer({
      host: config.server.host,
      port: config.server.port,
      metrics: this.metrics,
      stallThresholdMs: config.server.stallThresholdMs,
      readiness: () => ({
        joined: this.pipeline.joined,
        ...sourceProblemOf(this.source),
        ...(this.restarting === undefined ? {} : { restarting: this.restarting }),
        storageReachable: this.storage.reachable,
        ...(this.storage.error ? { storageError: this.storage.error } : {}),
        tables: this.pipeline.bufferState().map((b) => {
          const last = this.lastCommitAt.get(b.table);
          return { table: b.table, pendingSinceMs: b.openedAtMs, ...(last === undefined ? {} : { lastCommitAtMs: last }) };
        }),
      }),
      status: () => ({
        summary: summed(this.earlier, this.pipeline.summary),
        buffers: this.pipeline.bufferState(),
        lastCommits: Object.fromEntries(this.lastCommitAt),
        assignment: this.pipeline.assignment(),
        lag: { tables: Object.fromEntries(this.lag.tables), partitions: Object.fromEntries(this.lag.partitions) },
        ...(this.restarting === undefined ? {} : { restarting: this.restarting }),
      }),
    });
    logger.info({ url: this.server.url }, 'operations server listening');
    this.probe = setInterval(() => void this.probeStorage(), 15_000);
    void this.probeStorage();
    this.gauges = setInterval(() => this.updateBufferGauges(), 1000);
    this.lagTimer = setInterval(() => void this.updateLag(), config.server.lagIntervalMs ?? 5000);
    try {
      for (;;) {
        try {
          return summed(this.earlier, await this.pipeline.run(this.source, { tickMs: Math.min(1000, config.buffer.maxAgeMs) }));
        } catch (e) {
          const cause = outageOf(e);
          if (cause === undefined || this.stopping) throw e;
          if (!(await this.restartAfter(cause, e))) return this.earlier;
        }
      }
    } finally {
      clearInterval(this.probe);
      clearInterval(this.gauges);
      clearInterval(this.lagTimer);
      this.updateBufferGauges();
      await this.deadLetterSink?.close().catch(() => undefined);
      await this.server.stop();
    }
  }

  /**
   * After an outage stopped the current run: waits the backoff and starts a new run.
   * False when the daemon was stopped meanwhile (nothing was buffered: the run dropped it).
   */
  private async restartAfter(cause: OutageCause, e: unknown): Promise<boolean> {
    this.earlier = summed(this.earlier, this.pipeline.summary);
    const retryInMs = this.restarts.next();
    const attempt = this.restarts.attempts;
    const err = e instanceof Error ? e.message : String(e);
    this.restarting = `the pipeline stopped on a ${cause} outage and restarts (attempt ${attempt}): ${err}`;
    this.metrics.pipelineRestarts.inc({ cause });
    this.parts.logger.error({ err, cause, attempt, retryInMs }, `the pipeline stopped: ${cause} failed through all of its retries; a new one starts from the tables' checkpoints (nothing buffered is lost: it is read again)`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, retryInMs);
      this.wake = () => (clearTimeout(timer), resolve());
    });
    this.wake = undefined;
    if (this.stopping) return false;
    this.current = this.newRun();
    this.restarting = undefined;
    return true;
  }

  /** Buffer gauges per table; a table whose batch was flushed goes back to 0. */
  private updateBufferGauges(): void {
    const now = new Set<string>();
    for (const b of this.pipeline.bufferState()) {
      now.add(b.table);
      this.metrics.bufferBytes.set({ table: b.table }, b.bytes);
      this.metrics.bufferRows.set({ table: b.table }, b.rows);
    }
    for (const t of this.buffered) {
      if (now.has(t)) continue;
      this.metrics.bufferBytes.set({ table: t }, 0);
      this.metrics.bufferRows.set({ table: t }, 0);
    }
    this.buffered.clear();
    for (const t of now) this.buffered.add(t);
    const keys = this.pipeline.keyIndexState();
    this.metrics.keyIndexBytes.set(keys.bytes);
    this.metrics.keyIndexDroppedGroups.inc(keys.droppedGroups - this.keyIndexDropped);
    this.keyIndexDropped = keys.droppedGroups;
  }

  /** Reads end offsets from the source and sets `consumer_lag` per topic-partition; /status shows it per table. */
  async updateLag(): Promise<Lag> {
    if (this.source.offsets === undefined) return this.lag;
    try {
      this.lag = consumerLag(await this.source.offsets(), this.pipeline.committedOffsets());
    } catch (e) {
      this.parts.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'consumer lag not updated');
      return this.lag;
    }
    const seen = new Set<string>();
    for (const [split, n] of this.lag.partitions) {
      const { topic, partition } = parseSplitId(split);
      this.metrics.consumerLag.set({ topic, partition: String(partition) }, Number(n));
      seen.add(split);
    }
    // partitions assigned elsewhere now: drop their series instead of reporting a stale value
    for (const split of this.lagLabels) {
      if (seen.has(split)) continue;
      const { topic, partition } = parseSplitId(split);
      this.metrics.consumerLag.remove({ topic, partition: String(partition) });
    }
    this.lagLabels.clear();
    for (const s of seen) this.lagLabels.add(s);
    return this.lag;
  }

  private async probeStorage(): Promise<void> {
    try {
      await this.store.listDir('');
      this.storage = { reachable: true, error: undefined };
    } catch (e) {
      this.storage = { reachable: false, error: e instanceof Error ? e.message : String(e) };
    }
  }

  /** Graceful stop: fetching stops; `start()` flushes, commits, leaves the group, then resolves (at once while waiting to restart). */
  stop(): void {
    this.stopping = true;
    this.source.stop();
    this.wake?.();
  }
}

/** The metric's coarse reason for a dead letter's specific one. */
export function decodeErrorReason(reason: InvalidReason): DecodeErrorReason {
  switch (reason) {
    case 'malformed-json': case 'not-an-object': case 'empty-value': case 'unknown-format': case 'truncated-avro': case 'bad-avro':
      return 'malformed';
    case 'bad-schema': case 'schema-not-resolved': case 'incompatible-schema-change':
      return 'schema';
    case 'unknown-schema-id':
      return 'registry';
    case 'no-primary-key':
      return 'keyless';
    case 'unknown-semantic-type':
      return 'unsupported-type';
    default:
      return 'other';
  }
}

function kafkaSource(config: Config, logger: Logger): Source {
  const k = config.kafka;
  if (k === undefined) throw new Error('config has no kafka section: `run` reads Debezium topics from Kafka (see config/local-stack.yaml)');
  return new KafkaSource({
    ...kafkaConnection(k),
    groupId: k.groupId,
    ...(k.topics && k.topics.length > 0 ? { topics: k.topics } : {}),
    ...(k.topicPattern ? { topicPattern: k.topicPattern } : {}),
    sessionTimeoutMs: k.sessionTimeoutMs,
    heartbeatIntervalMs: k.heartbeatIntervalMs,
    // The daemon waits for the brokers at start-up (a supervisor need not restart it); each failed try is logged once.
    onJoinFailed: (f) => logger.warn({ groupId: k.groupId, attempt: f.attempt, retryInMs: f.retryInMs, reason: f.reason }, `cannot join consumer group ${k.groupId} yet; retrying`),
  });
}

function sourceProblemOf(source: Source): { sourceProblem?: string } {
  const problem = source.connectionProblem?.();
  return problem === undefined ? {} : { sourceProblem: problem };
}
