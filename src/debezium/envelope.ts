/**
 * Meaning of a decoded payload, whatever the wire form (JSON with/without schema, Avro):
 * which kind of record it is and, for row changes, the ChangeEvent.
 */
import type { AvroField, Row, TableSchema } from '../table/schema.js';
import type { ChangeEvent, Op, Position, RecordOrigin } from './change-event.js';
import type { ConnectSchema, CodecOptions } from './connect-schema.js';
import { RowCodec } from './connect-schema.js';
import type { Decoded, DecodeOptions, KeylessPolicy, SchemaChangeTable } from './decoded.js';
import { fail } from './invalid-record.js';
import { flattenedPosition, mysqlPosition, pgPosition } from './position.js';
import type { SchemaTracker } from './schema-tracker.js';
import { tableSchemaOf } from './schema-tracker.js';
import { declaredRow, inferRow } from './schemaless.js';
import { toLong } from './semantic-value.js';
import { codecLayout, schemalessLayout, type FastLayout } from './fast-layout.js';

/** A value schema compiled once: the row codec of `after`/`before`, or of a flattened row. */
export interface ValueShape {
  row: RowCodec | null;
  /** Flattened rows: the codec covers the data columns only (prefixed fields read raw). */
  flattened: boolean;
  /** Last table this shape's rows were named for and its schema: one topic = one table, so a hit saves two map lookups per record. */
  last?: { table: string; schema: TableSchema };
}

export interface Env {
  opts: DecodeOptions;
  codecOpts: CodecOptions;
  prefix: string;
  tracker: SchemaTracker | undefined;
  /** Schemaless tables: recent inferred schemas per table, newest first (updates and deletes differ in shape). */
  inferred: Map<string, TableSchema[]>;
  /** `<schema>.<table>` names by schema and table. */
  tableNames: Map<string, Map<string, TableNames>>;
  /** Field names of the last schemaless key (shared by events whose keys have the same names). */
  lastKeyFields: string[];
  /** The last table named (schema, table → names), checked before `tableNames`. */
  lastTable?: TableNames;
  /** Reused for each row's unavailable columns; copied out only when a row has some. */
  scratch: string[];
  /** JSON topics' row layouts, learned from decoded records, for the fast path (`fast-json.ts`). */
  fast: Map<string, FastLayout>;
}

/** A table's `<schema>.<table>` id and the labels its errors use, built once per table. */
export interface TableNames {
  schema: string;
  table: string;
  id: string;
  after: string;
  before: string;
  key: string;
  value: string;
}

const RECENT_SHAPES = 4;

/** Shared by every event that has no unavailable column, so buffered events do not each hold an empty array. */
const NONE_UNAVAILABLE = Object.freeze([]) as unknown as string[];

/** `<prefix>.<schema>.<table>.Envelope` → `<schema>.<table>` (only used to name columns in errors/config). */
function tableFromSchemaName(name: string | undefined): string {
  if (!name) return '?';
  const parts = name.split('.');
  return parts.length >= 3 ? `${parts[parts.length - 3]}.${parts[parts.length - 2]}` : name;
}

export function compileValueShape(schema: ConnectSchema, env: Env): ValueShape {
  if (schema.type !== 'struct' || !Array.isArray(schema.fields)) return { row: null, flattened: false };
  const table = tableFromSchemaName(schema.name);
  const fields = schema.fields;
  const has = (n: string): ConnectSchema | undefined => fields.find((f) => f.field === n);
  if (has('op') && (has('after') || has('before'))) {
    const rowSchema = has('after') ?? has('before');
    if (rowSchema && rowSchema.type === 'struct') return { row: new RowCodec(rowSchema, env.codecOpts, tableFromSchemaName(rowSchema.name)), flattened: false };
    return fail('bad-schema', `envelope ${schema.name ?? '?'} has no struct after/before`);
  }
  if (has('op') || has('status') || has('ddl') || has('serverName') || fields.length === 1) return { row: null, flattened: false };
  const data = fields.filter((f) => typeof f.field === 'string' && !f.field.startsWith(env.prefix));
  return { row: new RowCodec({ ...schema, fields: data }, env.codecOpts, table), flattened: true };
}

const tableSchemas = new WeakMap<RowCodec, Map<string, TableSchema>>();

function schemaFromCodec(codec: RowCodec, table: string): TableSchema {
  let m = tableSchemas.get(codec);
  if (!m) tableSchemas.set(codec, (m = new Map()));
  let s = m.get(table);
  if (!s) m.set(table, (s = tableSchemaOf(table, codec.avroFields)));
  return s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function num(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

/** Reads the rows of one record and names their schema: codec, declared schema, or inferred. */
class RowReader {
  private inferred: AvroField[] = [];
  constructor(
    private readonly codec: RowCodec | null,
    private readonly declared: TableSchema | undefined,
    private readonly env: Env,
    private readonly table: string,
  ) {}

  /** Rows of this reader are schemaless, their column types inferred from the values. */
  get infers(): boolean {
    return this.codec === null && this.declared === undefined;
  }

  /** `owned`: `obj` is this record's own parsed payload, which schemaless rows may reuse in place. */
  read(obj: unknown, unavailable: string[] | null, what: string, owned = false): Row {
    if (this.codec) return this.codec.convert(obj, unavailable, what);
    if (this.declared) return markUnavailable(declaredRow(this.declared, obj, what), unavailable, this.env);
    const r = inferRow(obj, what, this.env.inferred.get(this.table)?.[0]?.fields, owned);
    this.inferred = r.fields;
    return markUnavailable(r.row, unavailable, this.env);
  }

  schema(table: string): TableSchema {
    if (this.codec) return schemaFromCodec(this.codec, table);
    if (this.declared) return this.declared;
    return inferredSchema(table, this.inferred, this.env);
  }
}

function rowReader(codec: RowCodec | null, table: string, env: Env): RowReader {
  return new RowReader(codec, codec ? undefined : env.opts.tableSchemas?.[table], env, table);
}

function sameFields(a: readonly AvroField[], b: readonly AvroField[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as AvroField;
    const y = b[i] as AvroField;
    if (x.name !== y.name || (x.type !== y.type && JSON.stringify(x.type) !== JSON.stringify(y.type))) return false;
  }
  return true;
}

/** Schemaless records repeat their shape: reuse the table schema object while the fields match. */
function inferredSchema(table: string, fields: AvroField[], env: Env): TableSchema {
  let list = env.inferred.get(table);
  if (!list) env.inferred.set(table, (list = []));
  const at = list.findIndex((s) => sameFields(s.fields, fields));
  const s = at < 0 ? tableSchemaOf(table, fields) : (list[at] as TableSchema);
  if (at !== 0) {
    if (at > 0) list.splice(at, 1);
    list.unshift(s);
    if (list.length > RECENT_SHAPES) list.pop();
  }
  return s;
}

/** Schemaless rows: the placeholder arrives as a plain string (or a one-element array). */
function markUnavailable(row: Row, unavailable: string[] | null, env: Env): Row {
  if (unavailable === null) return row;
  const p = env.codecOpts.placeholder;
  for (const k in row) {
    const v = row[k];
    if (v === p || (Array.isArray(v) && v.length === 1 && v[0] === p)) {
      unavailable.push(k);
      row[k] = null;
    }
  }
  return row;
}

export interface KeyIn {
  /** The key struct (payload), or null for a Kafka null key. */
  obj: unknown;
  codec: RowCodec | null;
}

/** The last schemaless key's field names: kept per Env so each buffered event does not hold its own copy. */
function sameKeyFields(env: Env, row: Row): string[] {
  const prev = env.lastKeyFields;
  let i = 0;
  let same = true;
  for (const k in row) {
    if (prev[i] !== k) {
      same = false;
      break;
    }
    i++;
  }
  if (same && i === prev.length) return prev;
  return (env.lastKeyFields = Object.keys(row));
}

function readKey(key: KeyIn, env: Env): { row: Row; fields: string[] } | null {
  if (key.obj === null || key.obj === undefined) return null;
  if (!isObject(key.obj)) return fail('bad-key', `record key is not a struct (got ${typeof key.obj})`);
  if (key.codec) return { row: key.codec.convert(key.obj, null, 'key'), fields: key.codec.names };
  // The key object is this record's own (parsed or read from its bytes): bigints are converted in place.
  const row = key.obj as Row;
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'bigint') row[k] = toLong(v, `key.${k}`);
  }
  return { row, fields: sameKeyFields(env, row) };
}

/** `<schema>.<table>` and its labels built once per pair, not concatenated per record. */
function tableNames(env: Env, schema: string, table: string): TableNames {
  const last = env.lastTable;
  if (last !== undefined && last.table === table && last.schema === schema) return last;
  let byTable = env.tableNames.get(schema);
  if (!byTable) env.tableNames.set(schema, (byTable = new Map()));
  let names = byTable.get(table);
  if (names === undefined) {
    const id = `${schema}.${table}`;
    byTable.set(table, (names = { schema, table, id, after: `${id}.after`, before: `${id}.before`, key: `${id}.key`, value: `${id}.value` }));
  }
  return (env.lastTable = names);
}

/** The unavailable columns collected in `env.scratch`, moved out (the shared empty list when none). */
function takeUnavailable(env: Env): string[] {
  const u = env.scratch;
  return u.length === 0 ? NONE_UNAVAILABLE : u.splice(0, u.length);
}

/** The table schema of a codec's rows, remembered on the shape for the table it last named. */
function shapeSchema(shape: ValueShape, codec: RowCodec, table: string): TableSchema {
  const last = shape.last;
  if (last !== undefined && last.table === table) return last.schema;
  const schema = schemaFromCodec(codec, table);
  shape.last = { table, schema };
  return schema;
}

function keylessPolicy(env: Env, table: string): KeylessPolicy {
  return env.opts.keylessTables?.[table] ?? env.opts.keyless ?? 'reject';
}

function pick(row: Row, cols: string[], table: string): Row {
  const out: Row = {};
  for (const c of cols) {
    if (!(c in row)) fail('no-primary-key', `declared key column ${c} is not in the row of keyless table ${table}`);
    out[c] = row[c] as Row[string];
  }
  return out;
}

function txIdOf(source: Record<string, unknown>, transaction: unknown, mysql: boolean): string | null {
  if (mysql) {
    if (typeof source['gtid'] === 'string') return source['gtid'];
  } else if (source['txId'] !== null && source['txId'] !== undefined) return String(source['txId']);
  if (isObject(transaction) && typeof transaction['id'] === 'string') {
    const id = transaction['id'];
    return mysql ? id : (id.split(':')[0] as string);
  }
  return null;
}

const OPS = new Set(['c', 'r', 'u', 'd', 't']);

/** Classify a payload and, for row changes, build the event. Throws DecodeFailure on bad input. */
export function interpret(origin: RecordOrigin, payload: unknown, key: KeyIn, shape: ValueShape | null, env: Env): Decoded {
  if (payload === null || payload === undefined) return { kind: 'tombstone', origin };
  if (!isObject(payload)) return fail('not-an-object', `value is ${Array.isArray(payload) ? 'an array' : typeof payload}, expected a Debezium envelope object`);
  const op = payload['op'];
  if (shape?.flattened) return flattened(origin, payload, key, shape.row, env);
  if (op !== undefined && op !== null) {
    if (typeof op !== 'string') return fail('unknown-op', `op is ${JSON.stringify(op)}, expected one of c r u d t m`);
    if (op === 'm') {
      const msg = payload['message'];
      return { kind: 'message', origin, prefix: isObject(msg) && typeof msg['prefix'] === 'string' ? msg['prefix'] : null };
    }
    if (!OPS.has(op)) return fail('unknown-op', `op ${JSON.stringify(op)} is not one of c r u d t m`);
    return change(origin, op as Op, payload, key, shape, env);
  }
  if ('status' in payload && 'id' in payload) return transaction(origin, payload);
  if ('ddl' in payload || 'tableChanges' in payload) return schemaChange(origin, payload);
  if (origin.topic.startsWith('__debezium-heartbeat') || (Object.keys(payload).length === 1 && 'ts_ms' in payload)) {
    return { kind: 'heartbeat', origin, tsMs: num(payload['ts_ms']) };
  }
  if ('before' in payload || 'after' in payload || 'source' in payload) return fail('missing-op', 'envelope has no op field');
  return flattened(origin, payload, key, shape?.row ?? null, env);
}

function transaction(origin: RecordOrigin, p: Record<string, unknown>): Decoded {
  const status = p['status'];
  const id = p['id'];
  if ((status !== 'BEGIN' && status !== 'END') || typeof id !== 'string') return fail('bad-transaction', `transaction record needs status BEGIN|END and a string id (got ${JSON.stringify(status)}, ${JSON.stringify(id)})`);
  const out: Extract<Decoded, { kind: 'transaction' }> = { kind: 'transaction', origin, status, id, txId: id.includes(':') ? (id.split(':')[0] as string) : id };
  const count = num(p['event_count']);
  if (count !== null) out.eventCount = count;
  const dc = p['data_collections'];
  if (Array.isArray(dc)) {
    out.perTable = dc.map((d: unknown) => {
      if (!isObject(d) || typeof d['data_collection'] !== 'string') return fail('bad-transaction', 'data_collections entry without data_collection');
      return { table: d['data_collection'], eventCount: num(d['event_count']) ?? 0 };
    });
  }
  return out;
}

function schemaChange(origin: RecordOrigin, p: Record<string, unknown>): Decoded {
  const tables: SchemaChangeTable[] = [];
  const tc = p['tableChanges'];
  if (Array.isArray(tc)) {
    for (const t of tc) {
      if (!isObject(t)) continue;
      const tb = t['table'];
      tables.push({
        type: String(t['type'] ?? ''),
        table: String(t['id'] ?? '').replace(/"/g, ''),
        primaryKey: isObject(tb) && Array.isArray(tb['primaryKeyColumnNames']) ? tb['primaryKeyColumnNames'].map(String) : [],
      });
    }
  }
  return {
    kind: 'schema-change',
    origin,
    database: typeof p['databaseName'] === 'string' ? p['databaseName'] : null,
    ddl: typeof p['ddl'] === 'string' ? p['ddl'] : null,
    tables,
  };
}

function track(event: ChangeEvent, env: Env): ChangeEvent {
  if (!env.tracker) return event;
  const r = env.tracker.observe(event.table, event.schema, event.keyFields);
  if (!r.ok) fail('incompatible-schema-change', r.error.message);
  event.schema = r.schema;
  return event;
}

/** What a change's `source` block (and `transaction`) tell: its table, position, time and transaction. */
export interface SourceFacts {
  names: TableNames;
  position: Position;
  sourceTsMs: number | null;
  txId: string | null;
}

/** Reads a change's source block; throws DecodeFailure naming what is missing. Shared by `change` and the fast path (`fast-json.ts`). */
export function sourceFacts(op: Op, source: unknown, transaction: unknown, env: Env): SourceFacts {
  if (!isObject(source)) return fail('missing-source', `op=${op} envelope has no source block`);
  const connector = source['connector'];
  const mysql = connector === 'mysql' || connector === 'mariadb' || typeof source['file'] === 'string';
  const schemaName = mysql ? source['db'] : source['schema'];
  const sourceTable = source['table'];
  if (typeof schemaName !== 'string' || typeof sourceTable !== 'string' || sourceTable === '') {
    return fail('missing-table', `source has no ${mysql ? 'db' : 'schema'}/table, cannot name the table`);
  }
  return {
    names: tableNames(env, schemaName, sourceTable),
    position: mysql ? mysqlPosition(op, source) : pgPosition(op, source),
    sourceTsMs: num(source['ts_ms']),
    txId: txIdOf(source, transaction, mysql),
  };
}

function change(origin: RecordOrigin, op: Op, p: Record<string, unknown>, keyIn: KeyIn, shape: ValueShape | null, env: Env): Decoded {
  const { names, position, sourceTsMs, txId } = sourceFacts(op, p['source'], p['transaction'], env);
  const table = names.id;
  const codec = shape?.row ?? null;
  if (shape !== null && codec !== null && op !== 't' && op !== 'd') return codecChange(origin, op, p, keyIn, shape, codec, names, position, sourceTsMs, txId, env);
  const reader = rowReader(codec, table, env);

  if (op === 't') {
    const schema = codec ? reader.schema(table) : tableSchemaOf(table, []);
    return { kind: 'truncate', event: { table, op, key: null, row: null, position, sourceTsMs, txId, schema, keyFields: [], unavailable: [], origin } };
  }

  const unavailable: string[] = [];
  let row: Row | null = null;
  if (op !== 'd') {
    const after = p['after'];
    if (!isObject(after)) return fail('missing-after', `op=${op} event of ${table} has no after row`);
    row = reader.read(after, unavailable, names.after, true);
  }
  let key = readKey(keyIn, env);
  if (key === null) {
    const policy = keylessPolicy(env, table);
    if (policy === 'reject') return fail('no-primary-key', `table ${table} has no primary key (null Kafka key); set keyless to 'all-columns' or declare key columns`);
    let image = row;
    if (op === 'd') {
      const before = p['before'];
      if (!isObject(before)) return fail('missing-before', `delete of keyless table ${table} has no before image (needs REPLICA IDENTITY FULL)`);
      image = reader.read(before, null, names.before, true);
    }
    const r = image as Row;
    const cols = policy === 'all-columns' ? Object.keys(r) : policy.columns;
    key = { row: policy === 'all-columns' ? { ...r } : pick(r, cols, table), fields: cols };
    if (op === 'd') row = policy === 'all-columns' ? r : key.row;
  } else if (op === 'd') {
    // Never trust DEFAULT-identity `before` values: only the key is real.
    row = { ...key.row };
  }
  if (op === 'd' && codec === null && !env.opts.tableSchemas?.[table]) {
    // Schemaless delete: the schema is what the key tells us.
    reader.read(key.row, null, names.key);
  }
  const event: ChangeEvent = { table, op, key: key.row, row, position, sourceTsMs, txId, schema: reader.schema(table), keyFields: key.fields, unavailable: unavailable.length === 0 ? NONE_UNAVAILABLE : unavailable, origin };
  const tracked = track(event, env);
  if (op !== 'd' && reader.infers && keyIn.codec === null) learnLayout(env, origin.topic, tracked);
  return { kind: 'change', event: tracked };
}

/**
 * Remembers the shape of a schemaless topic's rows for the fast path (`fast-json.ts`): the
 * table's tracked schema and its integer key. Only with a tracker, whose current schema the
 * fast path checks each record against.
 */
function learnLayout(env: Env, topic: string, e: ChangeEvent): void {
  if (env.tracker === undefined || env.fast.get(topic)?.schema === e.schema) return;
  keepLayout(env, topic, typeof e.key?.[e.keyFields[0] as string] === 'number' ? schemalessLayout(e.table, e.schema, e.keyFields) : undefined);
}

/** A topic's layout from now on; undefined: the fast path leaves its records to the general decoder. */
function keepLayout(env: Env, topic: string, layout: FastLayout | undefined): void {
  if (layout === undefined) env.fast.delete(topic);
  else env.fast.set(topic, layout);
}

/**
 * The common case on its own path: an insert/update/read whose row has a compiled codec
 * (Avro, JSON with schema). Same result as the general path, without its per-record
 * RowReader, label strings, unavailable list and schema lookups.
 */
function codecChange(origin: RecordOrigin, op: Op, p: Record<string, unknown>, keyIn: KeyIn, shape: ValueShape, codec: RowCodec, names: TableNames, position: Position, sourceTsMs: number | null, txId: string | null, env: Env): Decoded {
  const after = p['after'];
  if (!isObject(after)) return fail('missing-after', `op=${op} event of ${names.id} has no after row`);
  const scratch = env.scratch;
  if (scratch.length !== 0) scratch.length = 0; // left over by a row that failed mid-way
  const row = codec.convert(after, scratch, names.after);
  const unavailable = takeUnavailable(env);
  let key = readKey(keyIn, env);
  if (key === null) {
    const policy = keylessPolicy(env, names.id);
    if (policy === 'reject') return fail('no-primary-key', `table ${names.id} has no primary key (null Kafka key); set keyless to 'all-columns' or declare key columns`);
    const cols = policy === 'all-columns' ? Object.keys(row) : policy.columns;
    key = { row: policy === 'all-columns' ? { ...row } : pick(row, cols, names.id), fields: cols };
  }
  const event: ChangeEvent = { table: names.id, op, key: key.row, row, position, sourceTsMs, txId, schema: shapeSchema(shape, codec, names.id), keyFields: key.fields, unavailable, origin };
  const tracked = track(event, env);
  const known = env.fast.get(origin.topic);
  if (keyIn.codec !== null && env.tracker !== undefined && (known?.schema !== tracked.schema || known.codec !== codec || known.keyCodec !== keyIn.codec)) {
    keepLayout(env, origin.topic, codecLayout(tracked.table, tracked.schema, tracked.keyFields, codec, keyIn.codec));
  }
  return { kind: 'change', event: tracked };
}

/** ExtractNewRecordState output: the row plus `__op`, `__deleted`, `__lsn`, `__table`, … */
function flattened(origin: RecordOrigin, p: Record<string, unknown>, keyIn: KeyIn, codec: RowCodec | null, env: Env): Decoded {
  const pre = env.prefix;
  const meta = (n: string): unknown => p[pre + n];
  const deleted = meta('deleted') === 'true' || meta('deleted') === true;
  const rawOp = meta('op');
  if (rawOp !== undefined && rawOp !== null && (typeof rawOp !== 'string' || !OPS.has(rawOp) || rawOp === 't')) {
    return fail('unknown-op', `${pre}op ${JSON.stringify(rawOp)} is not one of c r u d`);
  }
  const op: Op = deleted ? 'd' : ((rawOp as Op | undefined) ?? 'u');
  const topicParts = origin.topic.split('.');
  const flatTable = meta('table') ?? meta('source_table') ?? topicParts[topicParts.length - 1];
  const schemaName = meta('schema') ?? meta('source_schema') ?? meta('db') ?? meta('source_db') ?? topicParts[topicParts.length - 2];
  if (typeof flatTable !== 'string' || typeof schemaName !== 'string') return fail('missing-table', `flattened record on topic ${origin.topic} names no table`);
  const table = tableNames(env, schemaName, flatTable).id;
  let position: Position;
  if (meta('file') !== undefined) position = mysqlPosition(op, { file: meta('file'), pos: meta('pos'), row: meta('row'), snapshot: op === 'r' ? 'true' : 'false' });
  else position = flattenedPosition(op, meta('lsn'));
  const data: Record<string, unknown> = {};
  for (const k in p) if (!k.startsWith(pre)) data[k] = p[k];
  const reader = rowReader(codec, table, env);
  const unavailable: string[] = [];
  let row = reader.read(data, op === 'd' ? null : unavailable, tableNames(env, schemaName, flatTable).value, true);
  let key = readKey(keyIn, env);
  if (key === null) {
    const policy = keylessPolicy(env, table);
    if (policy === 'reject') return fail('no-primary-key', `table ${table} has no primary key (null Kafka key); set keyless to 'all-columns' or declare key columns`);
    const cols = policy === 'all-columns' ? Object.keys(row) : policy.columns;
    key = { row: pick(row, cols, table), fields: cols };
  }
  if (op === 'd') row = { ...key.row };
  const txRaw = meta('txId') ?? meta('source_txId');
  const event: ChangeEvent = {
    table,
    op,
    key: key.row,
    row,
    position,
    sourceTsMs: num(meta('source_ts_ms')),
    txId: txRaw === undefined || txRaw === null ? null : String(txRaw),
    schema: reader.schema(table),
    keyFields: key.fields,
    unavailable: unavailable.length === 0 ? NONE_UNAVAILABLE : unavailable,
    origin,
  };
  return { kind: 'change', event: track(event, env) };
}
