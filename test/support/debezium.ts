// Drives the stack's real Debezium: registers PostgreSQL connectors on Kafka
// Connect over REST, runs SQL against the stack's PostgreSQL (psql), and reads
// what lands on Kafka. Used by integration and e2e tests.
import { setTimeout as sleep } from "node:timers/promises";
import { Consumer } from "@platformatic/kafka";
import { run, stackEnv } from "./stack-env.js";

export interface PostgresConnectorSpec {
  /** Connector name; also names the replication slot and publication. */
  name: string;
  /** Tables as `schema.table`, e.g. `public.orders`. */
  tables: readonly string[];
  /** Debezium `topic.prefix`: topics are `<prefix>.<schema>.<table>`. */
  topicPrefix: string;
  /** JsonConverter `schemas.enable` for key and value (envelope with or without schema); ignored with `format: "avro"`. */
  schemas: boolean;
  /**
   * Wire format of key and value; default from `schemas` ("json" or "json-schemaless").
   * "avro": Apicurio's AvroConverter in the Confluent wire format (byte 0, 4-byte id,
   * Avro body), schemas registered in the stack's registry; the id is the content id that
   * the registry's ccompat API `GET /schemas/ids/{id}` serves.
   * "avro-apicurio": the same converter with its own defaults (byte 0, 8-byte global id).
   */
  format?: ConnectorFormat;
  /** Extra connector properties; they win over the defaults. */
  extra?: Readonly<Record<string, string>>;
}

export type ConnectorFormat = "json" | "json-schemaless" | "avro" | "avro-apicurio";

/** Kafka Connect answered with an error, or a connector failed. */
export class ConnectError extends Error {
  override readonly name = "ConnectError";
}

/** Replication slot / publication names must be lowercase identifiers. */
export function slotName(connector: string): string {
  return connector.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 60);
}

/** The connector configuration registerPostgresConnector submits (pure, for inspection). */
export function postgresConnectorConfig(spec: PostgresConnectorSpec): Record<string, string> {
  const { postgres } = stackEnv();
  const slot = slotName(spec.name);
  return {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "database.hostname": postgres.host,
    "database.port": String(postgres.port),
    "database.user": postgres.user,
    "database.password": postgres.password,
    "database.dbname": postgres.database,
    "topic.prefix": spec.topicPrefix,
    "table.include.list": spec.tables.join(","),
    "plugin.name": "pgoutput",
    "slot.name": slot,
    "publication.name": `${slot}_pub`,
    "publication.autocreate.mode": "filtered",
    ...converterConfig("key", spec.format ?? (spec.schemas ? "json" : "json-schemaless")),
    ...converterConfig("value", spec.format ?? (spec.schemas ? "json" : "json-schemaless")),
    // Short polls keep tests fast.
    "poll.interval.ms": "100",
    ...spec.extra,
  };
}

/** `<side>.converter*` properties for one format. */
export function converterConfig(side: "key" | "value", format: ConnectorFormat): Record<string, string> {
  if (format === "json" || format === "json-schemaless") {
    return { [`${side}.converter`]: "org.apache.kafka.connect.json.JsonConverter", [`${side}.converter.schemas.enable`]: String(format === "json") };
  }
  const registry = stackEnv().vars["APICURIO_REGISTRY_URL"];
  if (!registry) throw new ConnectError("no APICURIO_REGISTRY_URL in .stack/env: run `scripts/stack up registry connect` (Avro needs the schema registry)");
  const p = `${side}.converter.apicurio.registry`;
  return {
    [`${side}.converter`]: "io.apicurio.registry.utils.converter.AvroConverter",
    [`${p}.url`]: registry,
    [`${p}.auto-register`]: "true",
    [`${p}.find-latest`]: "true",
    ...(format === "avro-apicurio"
      ? {}
      : {
          // Confluent framing: magic byte + 4-byte id in the payload, nothing in headers.
          [`${p}.as-confluent`]: "true",
          [`${p}.headers.enabled`]: "false",
          // The ccompat API resolves /schemas/ids/{id} by content id, so that is the id to write.
          [`${p}.use-id`]: "contentId",
        }),
  };
}

async function connect(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const url = `${stackEnv().connectUrl}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ConnectError(`Kafka Connect at ${url} is not reachable (${(e as Error).message}): run \`npm run stack:up\``);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Creates (or reconfigures) the connector; resolves once Connect accepted it. */
export async function registerPostgresConnector(spec: PostgresConnectorSpec): Promise<void> {
  const config = postgresConnectorConfig(spec);
  const { status, json } = await connect("PUT", `/connectors/${encodeURIComponent(spec.name)}/config`, config);
  if (status !== 200 && status !== 201) {
    throw new ConnectError(`registering connector ${spec.name} failed: HTTP ${status} ${JSON.stringify(json)}`);
  }
}

interface ConnectorStatus {
  connector?: { state?: string; trace?: string };
  tasks?: Array<{ id: number; state?: string; trace?: string }>;
}

/** Resolves when the connector and all its tasks are RUNNING; throws with the trace if one FAILED. */
export async function waitForConnectorRunning(name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no status yet";
  while (Date.now() < deadline) {
    const { status, json } = await connect("GET", `/connectors/${encodeURIComponent(name)}/status`);
    if (status === 200) {
      const s = json as ConnectorStatus;
      const failed = [s.connector, ...(s.tasks ?? [])].find((x) => x?.state === "FAILED");
      if (failed) throw new ConnectError(`connector ${name} FAILED: ${failed.trace ?? "(no trace)"}`);
      const tasks = s.tasks ?? [];
      if (s.connector?.state === "RUNNING" && tasks.length > 0 && tasks.every((t) => t.state === "RUNNING")) return;
      last = JSON.stringify(s);
    } else {
      last = `HTTP ${status} ${JSON.stringify(json)}`;
    }
    await sleep(250);
  }
  throw new ConnectError(`connector ${name} not RUNNING after ${timeoutMs} ms (last status: ${last})`);
}

/**
 * Deletes the connector (absent is fine) and drops its replication slot, so
 * the next test with the same name starts from a fresh snapshot.
 */
export async function deleteConnector(name: string, opts: { dropSlot?: boolean } = {}): Promise<void> {
  const { status, json } = await connect("DELETE", `/connectors/${encodeURIComponent(name)}`);
  if (status !== 204 && status !== 200 && status !== 404) {
    throw new ConnectError(`deleting connector ${name} failed: HTTP ${status} ${JSON.stringify(json)}`);
  }
  if (opts.dropSlot === false) return;
  const slot = slotName(name);
  // The slot stays active until the task has stopped; retry briefly.
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await sql(
        `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = '${slot}' and not active;` +
          `drop publication if exists ${slot}_pub;`,
      );
      const left = await sql(`select count(*) from pg_replication_slots where slot_name = '${slot}'`);
      if (left.trim() === "0") return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    if (Date.now() > deadline) throw new ConnectError(`replication slot ${slot} of connector ${name} still active after 20 s`);
    await sleep(500);
  }
}

/** Runs SQL on the stack's PostgreSQL as the test user; returns psql's unaligned output. */
export async function sql(statements: string): Promise<string> {
  const { postgres, vars } = stackEnv();
  const res = await run(
    postgres.psql,
    ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", postgres.host, "-p", String(postgres.port), "-U", postgres.user, "-d", postgres.database, "-f", "-"],
    { ...process.env, ...vars, PGPASSWORD: postgres.password },
    statements,
  );
  if (res.code !== 0) throw new Error(`psql failed (exit ${res.code}) on: ${statements.slice(0, 200)}\n${res.stderr.trim()}`);
  return res.stdout;
}

/** A record as Kafka holds it: key and value bytes (Avro records are not text). */
export interface RawTopicRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  /** null for a tombstone. */
  value: Buffer | null;
}

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  /** null for a tombstone. */
  value: string | null;
}

/**
 * Reads `topic` from the earliest offset until `until` returns true for the
 * records so far (default: at least one record), or throws after timeoutMs.
 */
export async function readTopic(
  topic: string,
  opts: { until?: (records: readonly TopicRecord[]) => boolean; timeoutMs?: number } = {},
): Promise<TopicRecord[]> {
  const text = (b: Buffer | null): string | null => (b === null ? null : b.toString("utf8"));
  return readTopicAs(topic, (r) => ({ ...r, key: text(r.key), value: text(r.value) }), opts);
}

/** readTopic with the key and value bytes as they are (for Avro). */
export async function readTopicBytes(
  topic: string,
  opts: { until?: (records: readonly RawTopicRecord[]) => boolean; timeoutMs?: number } = {},
): Promise<RawTopicRecord[]> {
  return readTopicAs(topic, (r) => r, opts);
}

async function readTopicAs<T>(
  topic: string,
  convert: (r: RawTopicRecord) => T,
  opts: { until?: (records: readonly T[]) => boolean; timeoutMs?: number },
): Promise<T[]> {
  const until = opts.until ?? ((r) => r.length > 0);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  // Debezium creates its topics lazily: a subscription before that fails with
  // "Unknown topic", so retry until the deadline.
  for (;;) {
    try {
      return await readTopicOnce(topic, convert, until, Math.max(1000, deadline - Date.now()));
    } catch (e) {
      const unknown = /unknown topic/i.test((e as Error).message);
      if (!unknown || Date.now() > deadline) {
        throw unknown ? new Error(`topic ${topic} did not appear within ${timeoutMs} ms`) : e;
      }
      await sleep(500);
    }
  }
}

async function readTopicOnce<T>(
  topic: string,
  convert: (r: RawTopicRecord) => T,
  until: (records: readonly T[]) => boolean,
  timeoutMs: number,
): Promise<T[]> {
  const consumer = new Consumer({
    groupId: `cdc-lake-test-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    clientId: "cdc-lake-test",
    bootstrapBrokers: [stackEnv().kafkaBootstrap],
    maxWaitTime: 500,
  });
  const records: T[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
    const timer = setTimeout(() => void stream.close(), timeoutMs);
    try {
      for await (const m of stream) {
        // Empty and absent both mean null (a tombstone value, a keyless record).
        const bytes = (b: Buffer | null | undefined): Buffer | null => (b === undefined || b === null || b.length === 0 ? null : b);
        records.push(convert({ topic: m.topic, partition: m.partition, offset: m.offset, key: bytes(m.key), value: bytes(m.value) }));
        if (until(records)) break;
      }
    } finally {
      clearTimeout(timer);
      await stream.close().catch(() => undefined);
    }
  } finally {
    try {
      await consumer.close();
    } catch {
      // closing after a timeout may race the stream's own close; nothing to keep
    }
  }
  if (!until(records)) {
    throw new Error(`topic ${topic}: condition not met after ${timeoutMs} ms (${records.length} records read)`);
  }
  return records;
}

/** Waits until a topic exists with at least one record; Debezium creates topics lazily. */
export async function waitForTopic(topic: string, timeoutMs = 60_000): Promise<void> {
  await readTopic(topic, { timeoutMs });
}
