/**
 * KafkaSource: the Source contract over a Kafka consumer group, on @platformatic/kafka
 * (pure JS, maintained; chosen over kafkajs by measurement – docs/sources.md). The
 * client is used for group membership, metadata and raw Fetch requests only; the fetch
 * loop is ours, because the owner – not the group – decides where each partition starts
 * (positions live in table commits), and the memory budget pauses single partitions.
 *
 * Rebalances: the client rejoins by itself and reports the new assignment; we then call
 * `onRevoked(lost)` and `onAssigned(gained)` and seek the gained partitions to the
 * offsets the owner returns (earliest when it has none). A batch already queued for a
 * revoked partition is dropped, never delivered. Since the client has no pre-revocation
 * callback, a revoked owner can still be mid-commit: table commits are fenced by the
 * object store (design §3.4), not by this module.
 */
import { Admin, Consumer, type ClusterMetadata, type fetchV17, type GroupPartitionsAssigner } from '@platformatic/kafka';
import { assignWholeTopics } from './assignor.js';
import { Backoff, backoffCeiling, PermanentFailure, retryWithBackoff, SOURCE_BACKOFF } from './backoff.js';
import { clientOptions, type KafkaConnection } from './kafka-connection.js';

type FetchResponse = fetchV17.FetchResponse;
import type { KafkaRecordIn, RecordBatch, SplitId } from './record.js';
import { parseSplitId, splitId } from './record.js';
import { SourceError, type Source, type SourceHooks, type SplitOffsets } from './source.js';

export interface KafkaSourceOptions extends KafkaConnection {
  groupId: string;
  topics?: string[];
  /** Topics matching it are subscribed, also ones created later (checked every `metadataRefreshMs`). */
  topicPattern?: string | RegExp;
  /** Topic-pattern refresh period (default 30 s). */
  metadataRefreshMs?: number;
  /** Broker long-poll wait when a partition has no data (default 500 ms). */
  maxWaitMs?: number;
  /** Max bytes per fetch response (default 8 MiB) and per partition (default 2 MiB). */
  maxBytes?: number;
  maxBytesPerPartition?: number;
  /** Batches queued ahead of the consumer before fetching stops (default 32). */
  queueBatches?: number;
  /**
   * Key and value bytes queued ahead of the consumer before fetching stops (default 4 MiB).
   * Fetched records stay in memory until the pipeline takes them (they are slices of the
   * fetch response), so this and `maxBytes` bound the source's share of the heap.
   */
  queueBytes?: number;
  /** The group drops a member that sent no heartbeat for this long (takeover time after a crash). */
  sessionTimeoutMs?: number;
  /** Heartbeat period; below a third of the session timeout. */
  heartbeatIntervalMs?: number;
  /**
   * How the group leader spreads partitions: 'topic' (default) keeps all partitions of a
   * topic on one member so each table has one writer; 'partition' is round-robin.
   */
  assignment?: 'topic' | 'partition';
  /** Called once per failed attempt to join the group at start-up (the source keeps retrying). */
  onJoinFailed?: (failure: JoinFailure) => void;
}

/** A failed attempt to join the consumer group; the next one follows after `retryInMs`. */
export interface JoinFailure {
  attempt: number;
  reason: string;
  retryInMs: number;
}

/** Adapter from the pure assignor to the client's assigner signature. */
const wholeTopicAssigner: GroupPartitionsAssigner = (_current, members, topics, metadata) => {
  const counts = new Map<string, number>();
  for (const t of topics) {
    const m = metadata.topics.get(t);
    if (m) counts.set(t, m.partitionsCount);
  }
  const plan = assignWholeTopics(new Map([...members].map(([id, m]) => [id, m.topics ? { topics: m.topics } : {}])), counts);
  return [...plan].map(([memberId, byTopic]) => ({
    memberId,
    assignments: new Map([...byTopic].map(([topic, partitions]) => [topic, { topic, partitions }])),
  }));
};

const IS_CONTROL = 0x20;
const EARLIEST = -2n;
const LATEST = -1n;

/** A fetched batch waiting to be taken, with its key and value bytes (counted once, when queued). */
interface QueuedBatch {
  batch: RecordBatch;
  bytes: number;
}

function recordBytes(records: readonly KafkaRecordIn[]): number {
  let n = 0;
  for (const r of records) n += (r.key?.byteLength ?? 0) + (r.value?.byteLength ?? 0);
  return n;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The fields of a client error this module reads (GenericError, MultipleErrors, ProtocolError, node errors). */
interface ClientErrorFields {
  code?: unknown;
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
}

function fieldsOf(e: unknown): ClientErrorFields {
  return typeof e === 'object' && e !== null ? (e as ClientErrorFields) : {};
}

/** The error and everything under it: aggregated errors and causes, depth-first (pure). */
function errorTree(e: unknown, depth = 0): unknown[] {
  if (depth > 8 || e === undefined || e === null) return [];
  const f = fieldsOf(e);
  const inner = Array.isArray(f.errors) ? (f.errors as unknown[]) : [];
  return [e, ...inner.flatMap((x) => errorTree(x, depth + 1)), ...errorTree(f.cause, depth + 1)];
}

const trimDot = (m: string): string => m.replace(/\.$/, '');

/** Each innermost failure of an aggregate as "message (cause)" (pure). */
function leafTexts(e: unknown, depth = 0): string[] {
  const f = fieldsOf(e);
  if (depth < 8 && Array.isArray(f.errors) && f.errors.length > 0) return (f.errors as unknown[]).flatMap((x) => leafTexts(x, depth + 1));
  const cause = f.cause === undefined || depth >= 8 ? [] : leafTexts(f.cause, depth + 1);
  return [trimDot(errText(e)) + (cause.length > 0 ? ` (${cause[0] as string})` : '')];
}

/**
 * A client error in one line: the failed operation and its distinct underlying
 * failures ("findGroupCoordinator failed 6 times: Connection to 127.0.0.1:9092 failed
 * (connect ECONNREFUSED 127.0.0.1:9092)"), at most three (pure).
 */
export function kafkaErrorText(e: unknown): string {
  const head = trimDot(errText(e));
  const leaves = [...new Set(leafTexts(e))].filter((l) => l !== head);
  return leaves.length === 0 ? head : `${head}: ${leaves.slice(0, 3).join('; ')}`;
}

/** Broker answers that no retry can change, with what the user must fix. */
const PERMANENT_PROTOCOL_ERRORS: Record<string, string> = {
  SASL_AUTHENTICATION_FAILED: 'the brokers refused the credentials: check kafka.sasl (mechanism, username, password)',
  UNSUPPORTED_SASL_MECHANISM: 'the brokers do not offer this SASL mechanism: check kafka.sasl.mechanism',
  TOPIC_AUTHORIZATION_FAILED: 'the principal may not read these topics: grant it Describe and Read on them',
  GROUP_AUTHORIZATION_FAILED: 'the principal may not use the consumer group: grant it Read on kafka.groupId',
  CLUSTER_AUTHORIZATION_FAILED: 'the principal lacks a cluster permission the consumer needs',
  INVALID_GROUP_ID: 'the brokers refuse kafka.groupId',
  INVALID_SESSION_TIMEOUT: 'the brokers refuse kafka.sessionTimeoutMs: keep it within their group.min/max.session.timeout.ms',
};

/** Node's TLS verification failures: the certificate or the port is wrong, not the network. */
const TLS_CONFIG_CODE = /^(ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_VERIFY_LEAF_SIGNATURE$|UNABLE_TO_GET_ISSUER_CERT|CERT_)/;

/**
 * Why a Kafka client error can never pass by retrying – a configuration the user must
 * fix (credentials, permissions, unknown topics, TLS) – or undefined when it may pass
 * (brokers down or unreachable, coordinator moving, timeouts). Pure.
 */
export function permanentKafkaProblem(e: unknown): string | undefined {
  for (const x of errorTree(e)) {
    const { code, apiId } = fieldsOf(x);
    if (typeof apiId === 'string' && apiId in PERMANENT_PROTOCOL_ERRORS) return PERMANENT_PROTOCOL_ERRORS[apiId];
    if (code === 'PLT_KFK_AUTHENTICATION') return 'authentication with the brokers failed: check kafka.sasl and kafka.tls';
    if (code === 'PLT_KFK_USER') {
      // the client's own verdicts: an unknown topic (it does not auto-create) or invalid options
      return /unknown topic/i.test(errText(x)) ? 'create the topic (or fix kafka.topics): the source does not create topics' : 'fix the kafka settings';
    }
    if (typeof code === 'string' && TLS_CONFIG_CODE.test(code)) return 'the TLS handshake with the brokers failed: check kafka.tls and that the port speaks TLS';
  }
  return undefined;
}

/**
 * The client's wait before it retries an operation. It retries a refused login too (the
 * authentication error arrives wrapped in a retriable connection error), 1 s apart; a
 * failure no retry can change is retried at once, so start-up reports it after ~2 s (the
 * broker's own delay on failed logins) instead of ~7 s.
 */
export function retryDelayMs(_client: object, _operation: string, _attempt: number, _retries: number, error: Error): number {
  return permanentKafkaProblem(error) === undefined ? 1000 : 0;
}

export class KafkaSource implements Source {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private admin: Admin | undefined;
  private hooks: SourceHooks | undefined;
  /** Next offset to fetch per assigned split; absent while the owner is being asked. */
  private readonly positions = new Map<SplitId, bigint>();
  private assigned = new Set<SplitId>();
  private readonly paused = new Set<SplitId>();
  private readonly subscribed = new Set<string>();
  private readonly queue: QueuedBatch[] = [];
  /** Key and value bytes of the queued batches. */
  private queuedBytes = 0;
  /** Resolvers of everyone waiting for news (new batches, resume, assignment, stop). */
  private readonly waiters = new Set<() => void>();
  /** Set by stop(): nothing more is fetched and batches() ends, but the member stays in the group. */
  private stopped = false;
  /** Set by close(): the member left the group. */
  private closed = false;
  /** A group-offset commit failed after stop(): the stop's later commits fail at once instead of retrying each. */
  private unanswered: string | undefined;
  private failure: Error | undefined;
  /** A dropped broker connection or a failed heartbeat; cleared by the next heartbeat or fetch. */
  private brokerProblem: string | undefined;
  /** A failed fetch; cleared by the next fetch (or when nothing is assigned). */
  private fetchProblem: string | undefined;
  /** The last failed attempt to join the group at start-up; cleared once joined. */
  private joinProblem: string | undefined;
  /** Aborted by stop(): a join attempt in flight must not hold up a stop. */
  private readonly stopping = new AbortController();
  private refreshTimer: NodeJS.Timeout | undefined;
  private assignmentChain: Promise<void> = Promise.resolve();
  /** The group's latest assignment to this member (a local re-assignment never adds beyond it). */
  private lastGroupAssignment = new Set<SplitId>();
  private loop: Promise<void> | undefined;
  private readonly pattern: RegExp | undefined;
  private readonly name: string;

  constructor(private readonly opts: KafkaSourceOptions) {
    this.name = `kafka ${opts.brokers.join(',')}`;
    this.pattern = opts.topicPattern === undefined ? undefined : typeof opts.topicPattern === 'string' ? new RegExp(opts.topicPattern) : opts.topicPattern;
    if ((opts.topics ?? []).length === 0 && !this.pattern) throw new SourceError(this.name, 'no topics: set topics (a list) and/or topicPattern (a regex)');
  }

  private base() {
    return { ...clientOptions(this.opts, 'cdc-lake'), retries: 5, retryDelay: retryDelayMs };
  }

  async open(hooks: SourceHooks): Promise<void> {
    this.hooks = hooks;
    this.consumer = new Consumer({
      ...this.base(),
      groupId: this.opts.groupId,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: this.opts.heartbeatIntervalMs ?? 3000,
      autocommit: false,
      ...(this.opts.assignment === 'partition' ? {} : { partitionAssigner: wholeTopicAssigner }),
    });
    // A dropped broker connection is the first sign of an outage (the client's own
    // retries delay heartbeat and fetch errors by seconds); the next success clears it.
    const dropped = (p: { broker?: { host?: string; port?: number } }): void => {
      this.brokerProblem ??= `lost the connection to broker ${p.broker?.host ?? '?'}:${p.broker?.port ?? '?'}`;
    };
    this.consumer.on('client:broker:disconnect', dropped);
    this.consumer.on('client:broker:failed', dropped);
    this.consumer.on('consumer:heartbeat:error', (p: { error?: unknown }) => {
      this.brokerProblem = `heartbeat to the group coordinator failed: ${errText(p.error)}`;
    });
    this.consumer.on('consumer:heartbeat:end', () => {
      this.brokerProblem = undefined;
    });
    this.consumer.on('consumer:group:join', (p) => {
      const next = new Set<SplitId>();
      for (const a of p.assignments ?? []) for (const part of a.partitions) next.add(splitId(a.topic, part));
      this.lastGroupAssignment = next;
      this.enqueueAssignment(() => next);
    });
    if (this.pattern) this.admin = new Admin(this.base());
    let joined: boolean;
    try {
      joined = await this.joinUntilJoinedOrStopped();
    } catch (e) {
      await this.close().catch(() => undefined); // its connections would keep the process alive
      throw e;
    }
    await this.assignmentChain;
    if (!joined || this.stopped) return; // stopped while waiting for the brokers: nothing to fetch
    if (this.pattern) {
      this.refreshTimer = setInterval(() => void this.refreshTopics(), this.opts.metadataRefreshMs ?? 30_000);
      this.refreshTimer.unref();
    }
    this.loop = this.fetchLoop().catch((e: unknown) => {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.notify();
    });
  }

  /**
   * Subscribes and joins the group, retrying with backoff while the brokers cannot be
   * reached (a broker restarting as the daemon starts); false when stopped meanwhile.
   * A configuration error fails at once.
   */
  private async joinUntilJoinedOrStopped(): Promise<boolean> {
    const group = this.opts.groupId;
    try {
      const outcome = await retryWithBackoff(() => this.untilStopped(this.subscribeAndJoin()), {
        backoff: new Backoff(),
        permanent: permanentKafkaProblem,
        onFailure: (f) => {
          const reason = kafkaErrorText(f.error);
          this.joinProblem = `cannot join group ${group} yet (attempt ${f.attempt}, retrying): ${reason}`;
          this.opts.onJoinFailed?.({ attempt: f.attempt, reason, retryInMs: f.delayMs });
        },
        wait: (ms) => this.sleep(ms),
        stopped: () => this.stopped,
      });
      return outcome.done;
    } catch (e) {
      const cause = e instanceof PermanentFailure ? e.cause : e;
      const fix = e instanceof PermanentFailure ? e.reason : 'check brokers, credentials and topics';
      throw new SourceError(this.name, `cannot join group ${group}: ${kafkaErrorText(cause)}; ${fix}`, { cause });
    } finally {
      this.joinProblem = undefined;
    }
  }

  private async subscribeAndJoin(): Promise<void> {
    await this.subscribeNew();
    await (this.consumer as Consumer<Buffer, Buffer, Buffer, Buffer>).joinGroup({});
  }

  /** Tracks the matching topics not subscribed yet (the client counts each track); true when there were any. */
  private async subscribeNew(): Promise<boolean> {
    const added = (await this.matchingTopics()).filter((t) => !this.subscribed.has(t));
    for (const t of added) this.subscribed.add(t);
    if (added.length > 0) (this.consumer as Consumer<Buffer, Buffer, Buffer, Buffer>).topics.trackAll(...added);
    return added.length > 0;
  }

  /** `p`, or a rejection as soon as stop() is called. */
  private async untilStopped<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined); // a late failure after a stop is of no interest
    const signal = this.stopping.signal;
    let onAbort = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new SourceError(this.name, 'stopped while joining the group'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([p, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async matchingTopics(): Promise<string[]> {
    const out = new Set(this.opts.topics ?? []);
    if (this.pattern && this.admin) {
      for (const t of await this.admin.listTopics()) if (this.pattern.test(t)) out.add(t);
    }
    return [...out].sort();
  }

  private async refreshTopics(): Promise<void> {
    if (this.stopped || !this.consumer) return;
    try {
      if (await this.subscribeNew()) await this.consumer.joinGroup({}); // rejoin so the group assigns the new topics
    } catch {
      // next refresh retries; a broken connection surfaces through the fetch loop
    }
  }

  /** Assignment changes are applied one at a time, in order, so hooks never interleave. */
  private enqueueAssignment(next: () => Set<SplitId>): void {
    this.assignmentChain = this.assignmentChain.then(() => this.applyAssignment(next())).catch((e: unknown) => {
      this.failure = new SourceError(this.name, `assignment failed: ${errText(e)}`, { cause: e });
      this.notify();
    });
  }

  private async applyAssignment(next: Set<SplitId>): Promise<void> {
    const hooks = this.hooks as SourceHooks;
    const lost = [...this.assigned].filter((s) => !next.has(s));
    const gained = [...next].filter((s) => !this.assigned.has(s));
    this.assigned = next;
    for (const s of lost) this.positions.delete(s);
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i] as QueuedBatch;
      if (next.has(q.batch.split)) continue;
      this.queue.splice(i, 1);
      this.queuedBytes -= q.bytes;
    }
    if (lost.length > 0) await hooks.onRevoked(lost);
    if (gained.length === 0) return;
    const starts = await hooks.onAssigned(gained);
    const missing = gained.filter((s) => !starts.has(s));
    const earliest = missing.length > 0 ? await this.earliestOffsets(missing) : new Map<SplitId, bigint>();
    for (const s of gained) {
      if (!this.assigned.has(s)) continue; // revoked again meanwhile
      this.positions.set(s, starts.get(s) ?? earliest.get(s) ?? 0n);
    }
    this.notify();
  }

  private earliestOffsets(splits: SplitId[]): Promise<Map<SplitId, bigint>> {
    return this.offsetsAt(splits, EARLIEST);
  }

  /** Per split, the offset at `timestamp` (-2 earliest, -1 latest = high watermark). */
  private async offsetsAt(splits: SplitId[], timestamp: bigint): Promise<Map<SplitId, bigint>> {
    const c = this.consumer as Consumer<Buffer, Buffer, Buffer, Buffer>;
    const byTopic = new Map<string, number[]>();
    for (const s of splits) {
      const { topic, partition } = parseSplitId(s);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    const res = await c.listOffsets({ topics: [...byTopic.keys()], partitions: Object.fromEntries(byTopic), timestamp });
    const out = new Map<SplitId, bigint>();
    for (const [topic, offs] of res) offs.forEach((o, p) => out.set(splitId(topic, p), o));
    return out;
  }

  private async fetchLoop(): Promise<void> {
    const c = this.consumer as Consumer<Buffer, Buffer, Buffer, Buffer>;
    const maxQueue = this.opts.queueBatches ?? 32;
    const maxQueueBytes = this.opts.queueBytes ?? 4 << 20;
    const backoff = new Backoff();
    while (!this.stopped) {
      const active = [...this.positions.keys()].filter((s) => !this.paused.has(s));
      if (active.length === 0 || this.queue.length >= maxQueue || this.queuedBytes >= maxQueueBytes) {
        if (active.length === 0) this.fetchProblem = undefined; // nothing to fetch, nothing failing
        await this.sleep(active.length === 0 ? 100 : 1000);
        continue;
      }
      const topics = [...new Set(active.map((s) => parseSplitId(s).topic))];
      let meta: ClusterMetadata;
      try {
        meta = await c.metadata({ topics });
      } catch (e) {
        if (this.stopped) return;
        await this.backoff(backoff, e);
        continue;
      }
      const byLeader = new Map<number, Map<string, { topic: string; partitions: Array<{ partition: number; offset: bigint }> }>>();
      for (const s of active) {
        const { topic, partition } = parseSplitId(s);
        const tm = meta.topics.get(topic);
        const pm = tm?.partitions[partition];
        if (!tm || !pm) continue;
        let leader = byLeader.get(pm.leader);
        if (!leader) byLeader.set(pm.leader, (leader = new Map()));
        let t = leader.get(tm.id);
        if (!t) leader.set(tm.id, (t = { topic, partitions: [] }));
        t.partitions.push({ partition, offset: this.positions.get(s) as bigint });
      }
      try {
        await Promise.all([...byLeader].map(([node, reqTopics]) => this.fetchFrom(c, node, reqTopics)));
        backoff.reset();
        // Records arrived: the brokers answer (heartbeats may not have run again yet).
        this.fetchProblem = undefined;
        this.brokerProblem = undefined;
      } catch (e) {
        if (this.stopped) return;
        await this.backoff(backoff, e);
      }
    }
  }

  private async fetchFrom(
    c: Consumer<Buffer, Buffer, Buffer, Buffer>,
    node: number,
    reqTopics: Map<string, { topic: string; partitions: Array<{ partition: number; offset: bigint }> }>,
  ): Promise<void> {
    const perPartition = this.opts.maxBytesPerPartition ?? 2 << 20;
    const requested = new Map<SplitId, bigint>();
    const topics = [...reqTopics].map(([topicId, t]) => ({
      topicId,
      partitions: t.partitions.map((p) => {
        requested.set(splitId(t.topic, p.partition), p.offset);
        return { partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: perPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 };
      }),
    }));
    let res: FetchResponse;
    try {
      res = await c.fetch({ node, topics, maxWaitTime: this.opts.maxWaitMs ?? 500, minBytes: 1, maxBytes: this.opts.maxBytes ?? 8 << 20 });
    } catch (e) {
      const partial = (e as { response?: FetchResponse }).response;
      if (!partial?.responses) throw e;
      // out-of-range partitions restart at the earliest offset still retained
      const reset: SplitId[] = [];
      for (const tr of partial.responses) {
        const topic = reqTopics.get(tr.topicId)?.topic;
        for (const p of tr.partitions) if (topic && p.errorCode === 1) reset.push(splitId(topic, p.partitionIndex));
      }
      if (reset.length === 0) throw e;
      const earliest = await this.earliestOffsets(reset);
      for (const [s, o] of earliest) if (this.positions.has(s)) this.positions.set(s, o);
      res = partial;
    }
    for (const tr of res.responses) {
      const topic = reqTopics.get(tr.topicId)?.topic;
      if (!topic) continue;
      for (const p of tr.partitions) {
        if (p.errorCode !== 0 || !p.records || p.records.length === 0) continue;
        const id = splitId(topic, p.partitionIndex);
        const from = requested.get(id) as bigint;
        // a revocation or a new seek while the fetch was in flight makes it stale
        if (this.positions.get(id) !== from) continue;
        // paused while the fetch was in flight: drop it, the same offsets are fetched on resume
        if (this.paused.has(id)) continue;
        const records: KafkaRecordIn[] = [];
        let next = from;
        for (const b of p.records) {
          const last = b.firstOffset + BigInt(b.lastOffsetDelta);
          if (last + 1n > next) next = last + 1n;
          if (b.attributes & IS_CONTROL) continue;
          for (const r of b.records) {
            const offset = b.firstOffset + BigInt(r.offsetDelta);
            if (offset < from) continue; // the broker returns whole batches
            const rec: KafkaRecordIn = {
              topic,
              partition: p.partitionIndex,
              offset,
              key: r.key ?? null,
              value: r.value ?? null,
              timestamp: Number(b.firstTimestamp + r.timestampDelta),
            };
            if (r.headers.length > 0) {
              const h: Record<string, Uint8Array> = {};
              for (const [hk, hv] of r.headers) if (hk) h[hk.toString('utf8')] = hv ?? new Uint8Array(0);
              rec.headers = h;
            }
            records.push(rec);
          }
        }
        this.positions.set(id, next);
        if (records.length > 0) {
          const bytes = recordBytes(records);
          this.queue.push({ batch: { split: id, records, nextOffset: next }, bytes });
          this.queuedBytes += bytes;
        }
      }
    }
    this.notify();
  }

  private async backoff(b: Backoff, e: unknown): Promise<void> {
    const ms = b.next();
    this.fetchProblem = `fetching failed: ${kafkaErrorText(e)}`;
    (this.consumer as Consumer<Buffer, Buffer, Buffer, Buffer>).clearMetadata();
    if (backoffCeiling(b.attempts) >= SOURCE_BACKOFF.capMs && process.env.CDC_LAKE_DEBUG) console.error(`${this.name}: fetch failing: ${kafkaErrorText(e)}`);
    await this.sleep(ms);
  }

  private notify(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves after `ms` or at the next notify(), whichever comes first. */
  private sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }

  async *batches(): AsyncIterable<RecordBatch> {
    if (!this.consumer) throw new SourceError(this.name, 'batches() called before open(); call open(hooks) first');
    while (!this.stopped) {
      if (this.failure) throw this.failure;
      const q = this.queue.shift();
      if (q) {
        const b = q.batch;
        this.queuedBytes -= q.bytes;
        this.notify(); // room in the queue: let a waiting fetch loop go on
        // re-check at delivery time: the split may have been revoked or paused-and-sought
        if (this.assigned.has(b.split)) yield b;
        continue;
      }
      await this.sleep();
    }
  }

  pause(splits: SplitId[]): void {
    for (const s of splits) this.paused.add(s);
  }

  resume(splits: SplitId[]): void {
    for (const s of splits) this.paused.delete(s);
    this.notify();
  }

  /** Revokes `splits` locally and assigns them again, so the owner re-reads their start offsets. */
  async reassign(splits: SplitId[]): Promise<void> {
    // Stopping, nothing more is fetched: the group gives the splits' tables to their next owner.
    if (this.stopped) return;
    // A refused commit may mean this member was dropped while paused (a zombie): wait until a
    // heartbeat confirms the membership, or the rejoin reports the new assignment, first.
    await this.membershipConfirmed();
    const again = new Set(splits);
    // Both computed when the chain reaches them: a rebalance queued earlier may have moved the splits.
    this.enqueueAssignment(() => new Set([...this.assigned].filter((s) => !again.has(s))));
    this.enqueueAssignment(() => new Set([...this.assigned, ...[...again].filter((s) => this.lastGroupAssignment.has(s))]));
    return this.assignmentChain;
  }

  private membershipConfirmed(): Promise<void> {
    const c = this.consumer;
    if (!c || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        c.off('consumer:heartbeat:end', done);
        c.off('consumer:group:join', done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.sessionTimeoutMs ?? 15_000);
      c.on('consumer:heartbeat:end', done);
      c.on('consumer:group:join', done);
    });
  }

  /** This member's id in the group, once joined. */
  memberId(): string | undefined {
    return this.consumer?.memberId ?? undefined;
  }

  connectionProblem(): string | undefined {
    return this.joinProblem ?? this.brokerProblem ?? this.fetchProblem;
  }

  /** Splits currently assigned to this member. */
  assignment(): SplitId[] {
    return [...this.assigned].sort();
  }

  /** High watermark and fetch position of every assigned split (consumer lag = end − what the owner committed). */
  async offsets(): Promise<Map<SplitId, SplitOffsets>> {
    const splits = this.assignment();
    const out = new Map<SplitId, SplitOffsets>();
    if (!this.consumer || this.closed || splits.length === 0) return out;
    let ends: Map<SplitId, bigint>;
    try {
      ends = await this.offsetsAt(splits, LATEST);
    } catch (e) {
      throw new SourceError(this.name, `reading end offsets failed: ${errText(e)}; the lag metric is stale until the brokers answer`, { cause: e });
    }
    for (const s of splits) {
      const end = ends.get(s);
      if (end !== undefined) out.set(s, { end, position: this.positions.get(s) });
    }
    return out;
  }

  async commitOffsets(offsets: Map<SplitId, bigint>): Promise<void> {
    const c = this.consumer;
    // After close() there is no group to commit to (after stop() there still is: a graceful stop's
    // last table commits are reported before the member leaves); the tables hold the real positions.
    if (!c || this.closed) return;
    const list = [...offsets]
      .filter(([s]) => this.assigned.has(s))
      .map(([s, offset]) => ({ ...parseSplitId(s), offset, leaderEpoch: -1 }));
    if (list.length === 0) return;
    // A stop must end within its deadline: with the brokers gone, one commit's retries (~5 s) are enough.
    if (this.stopped && this.unanswered !== undefined) throw new SourceError(this.name, `group offsets not committed: the brokers did not answer an earlier commit during this stop (${this.unanswered}); informational, the tables hold the positions`);
    try {
      await c.commit({ offsets: list });
    } catch (e) {
      if (this.stopped) this.unanswered = errText(e);
      // informational only: the tables hold the real positions
      throw new SourceError(this.name, `committing group offsets failed (informational, safe to ignore once): ${errText(e)}`, { cause: e });
    }
  }

  /**
   * Stops fetching and ends batches(); the member stays in the group (heartbeats go on), so
   * its owner can flush and commit what it buffered before close() hands the splits on.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.notify();
  }

  /** Leaves the group (after stop(), if not stopped yet) and closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    await this.loop?.catch(() => {});
    try {
      await this.consumer?.close(true);
    } finally {
      await this.admin?.close();
    }
  }
}
