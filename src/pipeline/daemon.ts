import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import type { Logger } from '../logging.js';
import { consumerLag, createMetrics, startOpsServer, type DecodeErrorReason, type Lag, type Metrics, type OpsServer } from '../server/index.js';
import type { InvalidReason } from '../debezium/invalid-record.js';
import { KafkaSource } from '../source/kafka.js';
import { KafkaDeadLetterSink } from '../source/kafka-dead-letters.js';
import { kafkaConnection } from '../source/kafka-connection.js';
import { parseSplitId, type Source } from '../source/source.js';
import type { ObjectStore } from '../storage/object-store.js';
import { lakeStore } from './lake.js';
import { Pipeline, type RunSummary } from './pipeline.js';

/**
 * `cdc-lake run`: the long-running service. Wires the Kafka source, the
 * pipeline and the operations server, and stops gracefully on SIGTERM/SIGINT:
 * stop fetching, flush and commit what is buffered, leave the group, exit.
 */

export interface DaemonParts {
  config: Config;
  logger: Logger;
  /** Tests may pass their own source or store; by default both come from the config. */
  source?: Source;
  store?: ObjectStore;
}

export class Daemon {
  readonly metrics: Metrics = createMetrics();
  readonly store: ObjectStore;
  readonly source: Source;
  readonly pipeline: Pipeline;
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
    const { config, logger } = parts;
    this.store = parts.store ?? lakeStore(config.lake);
    this.source = parts.source ?? kafkaSource(config, logger);
    this.pipeline = new Pipeline({
      store: this.store,
      config,
      logger,
      writer: () => {
        const member = this.source.memberId?.();
        return { host: hostname(), pid: process.pid, ...(member ? { member } : {}) };
      },
      ...(config.deadLetters.kafkaTopic && config.kafka
        ? { deadLetterSink: new KafkaDeadLetterSink(config.deadLetters.kafkaTopic, kafkaConnection(config.kafka, `${config.kafka.clientId}-dead-letters`)) }
        : {}),
      events: {
        onCommit: (table, _instant, rows, ms) => {
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
        storageReachable: this.storage.reachable,
        ...(this.storage.error ? { storageError: this.storage.error } : {}),
        tables: this.pipeline.bufferState().map((b) => {
          const last = this.lastCommitAt.get(b.table);
          return { table: b.table, pendingSinceMs: b.openedAtMs, ...(last === undefined ? {} : { lastCommitAtMs: last }) };
        }),
      }),
      status: () => ({
        summary: this.pipeline.summary,
        buffers: this.pipeline.bufferState(),
        lastCommits: Object.fromEntries(this.lastCommitAt),
        assignment: this.pipeline.assignment(),
        lag: { tables: Object.fromEntries(this.lag.tables), partitions: Object.fromEntries(this.lag.partitions) },
      }),
    });
    logger.info({ url: this.server.url }, 'operations server listening');
    this.probe = setInterval(() => void this.probeStorage(), 15_000);
    void this.probeStorage();
    this.gauges = setInterval(() => this.updateBufferGauges(), 1000);
    this.lagTimer = setInterval(() => void this.updateLag(), config.server.lagIntervalMs ?? 5000);
    try {
      return await this.pipeline.run(this.source, { tickMs: Math.min(1000, config.buffer.maxAgeMs) });
    } finally {
      clearInterval(this.probe);
      clearInterval(this.gauges);
      clearInterval(this.lagTimer);
      this.updateBufferGauges();
      await this.server.stop();
    }
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

  /** Graceful stop: fetching stops; `start()` flushes, commits, leaves the group, then resolves. */
  stop(): void {
    this.source.stop();
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
