/**
 * The daemon configuration: one zod schema with defaults, so every key, its type
 * and its default live in one place. `schemas/config.schema.json` is generated
 * from it (scripts/gen-config-schema.ts) for editor completion.
 */
import { z } from 'zod';

const MiB = 1024 * 1024;

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$/, { message: 'expected host:port, e.g. localhost:9092' });

/** `schema.table`, as Debezium names source tables. */
const tableId = z.string().regex(/^[^.\s/]+\.[^.\s/]+$/, { message: 'expected <schema>.<table>' });

const lakeUri = z
  .string()
  .min(1, { message: 'expected a path, file://… or s3://bucket/prefix' })
  .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(u) || /^file:\/\//.test(u) || /^s3:\/\/[^/]+/.test(u), {
    message: 'expected a path, file://… or s3://bucket/prefix',
  });

export const S3Schema = z
  .object({
    endpoint: z.url({ message: 'expected a URL such as http://127.0.0.1:9000' }).optional().describe('S3 endpoint; default from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL'),
    region: z.string().min(1).optional().describe('Default from AWS_REGION / AWS_DEFAULT_REGION'),
    pathStyle: z.boolean().default(false).describe('Path-style addressing (needed by most S3-compatible servers)'),
    credentials: z
      .object({
        accessKeyId: z.string().min(1),
        secretAccessKey: z.string().min(1),
        sessionToken: z.string().optional(),
      })
      .optional()
      .describe('Static credentials; omit to use the standard AWS credential chain'),
  })
  .strict();

export const LakeSchema = z
  .object({
    uri: lakeUri.describe('Where tables live: a path, file://… or s3://bucket/prefix'),
    s3: S3Schema.prefault({}),
  })
  .strict();

export const SaslSchema = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1),
  })
  .strict();

export const TlsSchema = z
  .object({
    ca: z.string().optional().describe('PEM text or a path to a PEM file'),
    cert: z.string().optional(),
    key: z.string().optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();

export const KafkaSchema = z
  .object({
    brokers: z
      .array(hostPort, { message: 'expected a non-empty list of host:port' })
      .min(1, { message: 'expected a non-empty list of host:port' }),
    clientId: z.string().min(1).default('cdc-lake'),
    groupId: z.string().min(1).default('cdc-lake'),
    topics: z.array(z.string().min(1)).default([]).describe('Debezium topics to read'),
    topicPattern: z
      .string()
      .refine(isValidRegex, { message: 'expected a valid regular expression' })
      .optional()
      .describe('Regex; newly created matching topics are picked up'),
    sasl: SaslSchema.optional(),
    tls: TlsSchema.optional(),
    // 15 s: a crashed replica's tables move within ~15 s, while an event-loop stall of a few
    // seconds (a large flush on a loaded host) does not cost a rebalance. Brokers refuse values
    // outside group.min/max.session.timeout.ms (6 s – 30 min by default).
    sessionTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(1_800_000)
      .default(15_000)
      .describe('Group session timeout: a replica silent this long loses its tables to the others (takeover time after a crash)'),
    heartbeatIntervalMs: z.number().int().min(100).default(3000).describe('Heartbeat period; must be below sessionTimeoutMs / 3'),
  })
  .strict()
  .refine((k) => k.topics.length > 0 || k.topicPattern !== undefined, {
    message: 'expected kafka.topics (a list) and/or kafka.topicPattern (a regex)',
    path: ['topics'],
  })
  .refine((k) => k.heartbeatIntervalMs * 3 < k.sessionTimeoutMs, {
    message: 'expected heartbeatIntervalMs below sessionTimeoutMs / 3 (a member must be able to miss two heartbeats before the group drops it)',
    path: ['heartbeatIntervalMs'],
  });

export const SchemaRegistrySchema = z
  .object({
    url: z
      .url({ message: 'expected a URL such as http://127.0.0.1:8081' })
      .describe("The Confluent-compatible API, or Apicurio Registry's (…/apis/ccompat/v7 or …/apis/registry/v2: either reaches both of its APIs)"),
    apicurioIdType: z
      .enum(['globalId', 'contentId'])
      .default('globalId')
      .describe("What an 8-byte schema id (Apicurio's own framing) is: its converter's apicurio.registry.use-id. 4-byte (Confluent) ids always resolve through the Confluent-compatible API"),
    basicAuth: z.object({ username: z.string(), password: z.string() }).strict().optional(),
    bearerToken: z.string().optional(),
  })
  .strict();

export const KeylessSchema = z.union([
  z.enum(['reject', 'all-columns']),
  z.object({ columns: z.array(z.string().min(1)).min(1) }).strict(),
]);

export const SourceSchema = z
  .object({
    format: z.enum(['auto', 'json', 'avro']).default('auto').describe('The encoding of record values: auto (detected per record), json (with or without schema), or avro (a schema registry wire format, Confluent or Apicurio; needs schemaRegistry); keys are always detected'),
    schemaRegistry: SchemaRegistrySchema.optional(),
    keyless: KeylessSchema.default('reject').describe('Tables without a primary key: reject, key on all columns, or name the columns'),
    binaryHandling: z.enum(['bytes', 'base64', 'hex']).default('bytes').describe("Must match the connector's binary.handling.mode"),
    unavailableValuePlaceholder: z.string().default('__debezium_unavailable_value'),
    fastPath: z
      .boolean()
      .default(true)
      .describe('Read JSON inserts and updates of a learned shape straight from their bytes into the rows written (the tables are the same either way); false: every record through the general decoder, with more CPU and memory'),
  })
  .strict()
  .refine((s) => s.format !== 'avro' || s.schemaRegistry !== undefined, {
    message: 'source.format avro needs a schema registry: set source.schemaRegistry.url, or use format auto',
    path: ['schemaRegistry'],
  });

export const TableOptionsSchema = z
  .object({
    recordKey: z.array(z.string().min(1)).min(1).optional().describe('Default: the Kafka key columns'),
    partitionField: z.string().min(1).optional().describe('Hive-style partition column; omit for a non-partitioned table'),
    buckets: z.number().int().min(1).max(4096).default(4),
    compaction: z
      .object({
        everyDeltaCommits: z.number().int().min(1).default(10),
        logToBaseRatio: z.number().positive().optional().describe('Also compact a file group when log bytes / base bytes exceeds this'),
        maxBytesPerRun: z
          .number()
          .int()
          .min(0)
          .default(64 * MiB)
          .describe('Base and log bytes one compaction run may read (0: no limit); it bounds how long a compaction holds back the table\'s next flush. The due file groups with the most log bytes go first; the rest follow when due again (by their log-file count: usually the next commit)'),
      })
      .strict()
      .prefault({}),
    retention: z.object({ commits: z.number().int().min(1).default(20) }).strict().prefault({}),
  })
  .strict();

/** A per-table override: the same keys, all optional, merged over `tables.defaults`. */
export const TableOverrideSchema = z
  .object({
    recordKey: z.array(z.string().min(1)).min(1).optional(),
    partitionField: z.string().min(1).optional(),
    buckets: z.number().int().min(1).max(4096).optional(),
    compaction: z
      .object({ everyDeltaCommits: z.number().int().min(1).optional(), logToBaseRatio: z.number().positive().optional(), maxBytesPerRun: z.number().int().min(0).optional() })
      .strict()
      .optional(),
    retention: z.object({ commits: z.number().int().min(1).optional() }).strict().optional(),
    ordering: z
      .string()
      .min(1)
      .optional()
      .describe('A column that decides which change of a row wins (a version counter, a timestamp each update sets) instead of the source position; see docs/configuration.md'),
  })
  .strict();

export const TablesSchema = z
  .object({
    defaults: TableOptionsSchema.prefault({}),
    overrides: z.record(tableId, TableOverrideSchema).default({}).describe('Keyed by <schema>.<table>'),
  })
  .strict();

export const BufferSchema = z
  .object({
    maxRows: z.number().int().min(1).default(50_000),
    maxBytes: z.number().int().min(1024).default(64 * MiB),
    maxAgeMs: z.number().int().min(1).default(5000),
    memoryBudgetBytes: z.number().int().min(1024).default(256 * MiB),
    keyIndexBytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * MiB)
      .describe("The writers' key indexes of all tables together (~33 MiB per million integer keys); past it the least recently written file groups are dropped and read from storage again when next written"),
  })
  .strict();

export const ConfigSchema = z
  .object({
    lake: LakeSchema,
    kafka: KafkaSchema.optional().describe('Omit only for file-source commands (ingest, demo)'),
    source: SourceSchema.prefault({}),
    tables: TablesSchema.prefault({}),
    buffer: BufferSchema.prefault({}),
    deadLetters: z
      .object({
        kafkaTopic: z.string().min(1).optional().describe('Also produce dead letters to this topic'),
        table: z.boolean().default(true).describe('Write dead letters to the _dead_letters table in the lake'),
      })
      .strict()
      .prefault({}),
    errors: z.object({ tolerance: z.enum(['all', 'none']).default('all') }).strict().prefault({}),
    transactions: z
      .object({
        align: z
          .boolean()
          .default(true)
          .describe('Never commit half a source transaction for a table, once Debezium transaction metadata is present (a subscribed *.transaction topic, or its BEGIN/END records); false: off'),
        maxHoldMs: z.number().int().min(1).default(300_000).describe('A transaction whose END has not completed it after this long is committed anyway (logged)'),
      })
      .strict()
      .prefault({}),
    server: z
      .object({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8080),
        stallThresholdMs: z.number().int().min(1).default(300_000).describe('/readyz fails when a table has buffered data but no commit for this long'),
        lagIntervalMs: z.number().int().min(100).optional().describe('Default 5000. How often consumer lag is read from the brokers for /metrics and /status'),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    shutdown: z.object({ deadlineMs: z.number().int().min(100).default(30_000) }).strict().prefault({}),
    maintenance: z
      .object({
        compactionThread: z
          .boolean()
          .default(false)
          .describe('Merge compactions on a worker thread (a second core) so ingestion keeps its pace while a table compacts; the worker heap adds to peak memory while it runs'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
/** A table's effective options: the defaults with its override merged in (only an override names an ordering column). */
export type TableOptions = z.output<typeof TableOptionsSchema> & { ordering?: string };

function isValidRegex(s: string): boolean {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}
