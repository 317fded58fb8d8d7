/**
 * Avro in a registry's wire format: byte 0 = 0x00, then the schema id (big-endian) in 4
 * bytes (Confluent's framing) or 8 (Apicurio's own), then the Avro binary body. The
 * registered Avro schema is mapped back to the Connect
 * schema it came from (AvroConverter keeps `connect.name`, `connect.parameters`,
 * `connect.type`), so Avro and JSON share one set of column codecs.
 */
import avro from 'avsc';
import type { ConnectSchema, ConnectType } from './connect-schema.js';
import { fail } from './invalid-record.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * int64 without precision loss: number while exact, bigint beyond 2^53 (avsc's default
 * throws). Decodes through avsc's 8-byte unpacking; exactLongType below is the fast reader
 * used everywhere (this one is exported for the side-by-side bench and as its reference).
 */
export const unpackingLongType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): number | bigint => {
    const hi = buf.readInt32LE(4);
    if (hi >= -0x200000 && hi < 0x200000) return hi * 0x100000000 + buf.readUInt32LE(0);
    const b = buf.readBigInt64LE(0);
    return b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
  },
  toBuffer: (n: number | bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (x: unknown): number | bigint => (typeof x === 'number' ? x : BigInt(String(x))),
  toJSON: (n: number | bigint): number => Number(n),
  isValid: (n: unknown): boolean => (typeof n === 'number' && Number.isInteger(n)) || typeof n === 'bigint',
  compare: (a: number | bigint, b: number | bigint): number => (a < b ? -1 : a > b ? 1 : 0),
});

/** The slice of avsc's Tap our long reader touches (avsc 5 keeps these public fields). */
interface Tap {
  buf: Buffer;
  pos: number;
}

/**
 * Reads a zigzag varint long straight from the tap. avsc's custom long types unpack every
 * long into a fresh 8-byte Buffer before `fromBuffer`; Debezium envelopes carry ~8 longs
 * (ts_ms, ts_us, ts_ns, lsn, txId...), so that allocation dominated Avro decoding. Up to 7
 * varint bytes (|v| < 2^48) float arithmetic is exact; longer ones while the zigzag value
 * stays within 2^53 - 1; beyond that they are redone in BigInt and stay a number only while
 * safe. A truncated body leaves pos past the end, which the caller's bounds check reports.
 */
function readExactLong(tap: Tap): number | bigint {
  const buf = tap.buf;
  const start = tap.pos;
  let pos = start;
  let b = buf[pos++] as number;
  let n = b & 0x7f;
  let k = 7;
  while (b & 0x80 && k < 28) {
    b = buf[pos++] as number;
    n |= (b & 0x7f) << k;
    k += 7;
  }
  if (!(b & 0x80)) {
    tap.pos = pos;
    return (n >>> 1) ^ -(n & 1);
  }
  let f = n >>> 0;
  let scale = 268435456; // 2^28
  let bytes = 4;
  do {
    b = buf[pos++] as number;
    f += (b & 0x7f) * scale;
    scale *= 128;
    bytes++;
  } while (b & 0x80 && bytes < 10);
  tap.pos = pos;
  // Each step adds exact terms and rounding is monotonic: a sum that ends at most 2^53 - 1
  // never rounded (microsecond timestamps take 8 varint bytes but stay safe numbers).
  if (f <= Number.MAX_SAFE_INTEGER) return f % 2 ? -(f + 1) / 2 : f / 2;
  let u = 0n;
  let shift = 0n;
  for (let i = start; i < pos; i++) {
    u |= BigInt((buf[i] as number) & 0x7f) << shift;
    shift += 7n;
  }
  u = BigInt.asUintN(64, u);
  const v = (u >> 1n) ^ -(u & 1n);
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}
/** unpackingLongType reading with readExactLong (avsc freezes types, so a child object overrides `_read`). */
export const exactLongType: typeof unpackingLongType = Object.create(unpackingLongType, { _read: { value: readExactLong } }) as typeof unpackingLongType;

export function avroType(schema: unknown): avro.Type {
  try {
    return avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false, registry: { long: exactLongType } });
  } catch (e) {
    return fail('bad-schema', `Avro schema cannot be read: ${(e as Error).message}`);
  }
}

/**
 * The type a registered schema's records are decoded with: `type` itself, except that a
 * Debezium change-event envelope reads only what the interpreter uses (`envelopeReader`).
 */
export function decodingType(type: avro.Type): avro.Type {
  const read = envelopeReader(type);
  // avsc freezes types: a child object overrides `_read`, and `decode` keeps its bounds check.
  return read === null ? type : (Object.create(type, { _read: { value: read } }) as avro.Type);
}

/** The envelope fields envelope.ts reads from a change event (not ts_ms/ts_us/ts_ns). */
const ENVELOPE_FIELDS: ReadonlySet<string> = new Set(['before', 'after', 'source', 'transaction', 'op']);
/** The `source` fields envelope.ts and position.ts read, PostgreSQL and MySQL alike. */
const SOURCE_FIELDS: ReadonlySet<string> = new Set(['connector', 'db', 'schema', 'table', 'snapshot', 'sequence', 'lsn', 'txId', 'ts_ms', 'file', 'pos', 'row', 'gtid']);
/** Ops that never need `before`: an upsert takes `after`; deletes (keyless tables) and anything unexpected get it. */
const UPSERT_OPS = ['c', 'u', 'r'];

type Read = (tap: Tap) => unknown;

function recordFields(type: avro.Type): avro.types.Field[] | null {
  return type.typeName === 'record' ? (type as avro.types.RecordType).fields : null;
}

/**
 * A record reader that keeps only the fields in `keep` (a plain object of them, in writer
 * order) and skips the rest with avsc's skippers, which allocate nothing: Debezium's
 * ts_ns longs (beyond 2^53, so BigInt work), ts_us and version/name strings cost as much
 * to read as columns do. `before` (when `lazyBefore`) is skipped too and read afterwards
 * from its saved position only when op is not an upsert. Field names are the fixed
 * Debezium ones in `keep`, so they are safe object-literal keys.
 */
function trimmedReader(name: string, fields: readonly avro.types.Field[], keep: ReadonlySet<string>, nested: ReadonlyMap<string, Read>, lazyBefore: boolean): Read {
  const args: unknown[] = [];
  const arg = (v: unknown): string => `a${args.push(v) - 1}`;
  const lines: string[] = [];
  const kept: string[] = [];
  let readBefore = '';
  for (const f of fields) {
    const t = arg(f.type);
    const v = `v${kept.length}`;
    if (lazyBefore && f.name === 'before') {
      lines.push(`let ${v}; const beforeAt = t.pos; ${t}._skip(t);`);
      readBefore = `{ const end = t.pos; t.pos = beforeAt; ${v} = ${t}._read(t); t.pos = end; }`;
    } else if (!keep.has(f.name)) {
      lines.push(`${t}._skip(t);`);
      continue;
    } else {
      const own = nested.get(f.name);
      lines.push(own ? `const ${v} = ${arg(own)}(t);` : `const ${v} = ${t}._read(t);`);
    }
    kept.push(f.name);
  }
  if (readBefore !== '') {
    const op = `v${kept.indexOf('op')}`;
    lines.push(`if (${UPSERT_OPS.map((o) => `${op} !== ${JSON.stringify(o)}`).join(' && ')}) ${readBefore}`);
  }
  lines.push(`return {${kept.map((n, i) => `${JSON.stringify(n)}: v${i}`).join(', ')}};`);
  const names = args.map((_a, i) => `a${i}`);
  return new Function(...names, `return function ${name}(t) {\n${lines.join('\n')}\n};`)(...args) as Read;
}

/**
 * The reader of a Debezium change-event envelope (a record with `op` and `after`/`before`,
 * as `compileValueShape` tells them), or null for any other schema (keys, heartbeats,
 * transaction and schema-change records are read in full).
 */
function envelopeReader(type: avro.Type): Read | null {
  const fields = recordFields(type);
  if (fields === null) return null;
  const has = (n: string): avro.types.Field | undefined => fields.find((f) => f.name === n);
  if (!has('op') || !(has('after') || has('before'))) return null;
  const nested = new Map<string, Read>();
  const source = has('source');
  const sourceFields = source ? recordFields(source.type) : null;
  if (sourceFields !== null) nested.set('source', trimmedReader('readSource', sourceFields, SOURCE_FIELDS, new Map(), false));
  return trimmedReader('readEnvelope', fields, ENVELOPE_FIELDS, nested, has('before') !== undefined);
}

/**
 * A schema as one number, its key: a 4-byte id as it is, an 8-byte id negated (the two are
 * different id spaces, even on one Apicurio registry).
 */
export const schemaKey = (id: number, idBytes: 4 | 8): number => (idBytes === 4 ? id : -id);

/**
 * A framed record's schema key. Registries never issue id 0, so four zero bytes after the
 * magic byte start an 8-byte id (ids below 2^32 are read). Null when the bytes are not a
 * framed record, or too short for their header.
 */
export function schemaKeyOf(b: Uint8Array | null): number | null {
  if (b === null || b.length < 5 || b[0] !== 0) return null;
  const id = (((b[1] as number) << 24) | ((b[2] as number) << 16) | ((b[3] as number) << 8) | (b[4] as number)) >>> 0;
  if (id !== 0) return id;
  if (b.length < 9) return null;
  const wide = (((b[5] as number) << 24) | ((b[6] as number) << 16) | ((b[7] as number) << 8) | (b[8] as number)) >>> 0;
  return wide === 0 ? null : schemaKey(wide, 8);
}

/** Where the Avro body starts after the header of a record with this schema key. */
const bodyOffset = (key: number): number => (key > 0 ? 5 : 9);

/** A schema key as its id and width, for the registry. */
export const schemaIdOf = (key: number): { id: number; idBytes: 4 | 8 } => (key > 0 ? { id: key, idBytes: 4 } : { id: -key, idBytes: 8 });

/** A schema key for messages: `schema id 5` or `8-byte schema id 5`. */
export const schemaKeyText = (key: number): string => (key > 0 ? `schema id ${key}` : `8-byte schema id ${-key}`);

/** The schema key of a framed record, or why its header cannot be read. */
export function readWireHeader(buf: Uint8Array): number {
  if (buf.length < 5) return fail('truncated-avro', `Avro record is ${buf.length} bytes, shorter than the 5-byte wire header`);
  if (buf[0] !== 0) return fail('unknown-format', `first byte 0x${(buf[0] as number).toString(16)} is neither JSON nor the Avro magic 0x00`);
  const key = schemaKeyOf(buf);
  if (key !== null) return key;
  if (buf.length < 9) return fail('truncated-avro', `Avro record is ${buf.length} bytes: schema id 0 is none, and an 8-byte schema id (Apicurio's framing) needs 9 header bytes`);
  return fail('unknown-schema-id', 'Avro record names schema id 0, which no registry issues');
}

/** Decode an Avro body; the whole buffer must be consumed. */
export function decodeBody(type: avro.Type, buf: Buffer, key: number): unknown {
  let res: { value: unknown; offset: number };
  try {
    res = type.decode(buf, bodyOffset(key)) as { value: unknown; offset: number };
  } catch (e) {
    return fail('bad-avro', `Avro body does not match ${schemaKeyText(key)}: ${(e as Error).message}`);
  }
  if (res.offset < 0) return fail('truncated-avro', `Avro body is truncated for ${schemaKeyText(key)}`);
  if (res.offset !== buf.length) return fail('bad-avro', `Avro body has ${buf.length - res.offset} trailing bytes after the ${schemaKeyText(key)} record`);
  return res.value;
}

/**
 * Inline referenced named types (Confluent schema references) into `schema`: the first
 * use of each referenced full name becomes its definition, later uses stay names, which is
 * how Avro itself resolves named types. Pure; `refs` maps full names to schemas that are
 * already self-contained.
 */
export function inlineNamedTypes(schema: unknown, refs: ReadonlyMap<string, unknown>): unknown {
  const defined = new Set<string>();
  const fullName = (name: string, ns: string): string => (name.includes('.') || !ns ? name : `${ns}.${name}`);
  const walk = (node: unknown, ns: string): unknown => {
    if (typeof node === 'string') {
      const full = refs.has(node) ? node : fullName(node, ns);
      if (!refs.has(full) || defined.has(full)) return node;
      defined.add(full);
      // Walked too, so the names it defines (a Source inside a referenced Wrapper) count
      // as defined and are not inlined a second time (avsc rejects duplicate names).
      return walk(refs.get(full), '');
    }
    if (Array.isArray(node)) return node.map((n) => walk(n, ns));
    if (typeof node !== 'object' || node === null) return node;
    const o = node as AvroObj;
    const name = typeof o.name === 'string' ? fullName(o.name, o.namespace ?? ns) : undefined;
    if (name && (o.type === 'record' || o.type === 'enum' || o.type === 'fixed')) defined.add(name);
    const inner = name && name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : ns;
    const out: Record<string, unknown> = { ...(node as Record<string, unknown>) };
    if (o.type === 'record' && Array.isArray(o.fields)) out['fields'] = o.fields.map((f) => ({ ...f, type: walk(f.type, inner) }));
    else if (o.type === 'array') out['items'] = walk(o.items, ns);
    else if (o.type === 'map') out['values'] = walk(o.values, ns);
    else if (typeof o.type !== 'string' || !['record', 'enum', 'fixed'].includes(o.type)) out['type'] = walk(o.type, ns);
    return out;
  };
  return walk(schema, '');
}

type Named = Map<string, ConnectSchema>;

interface AvroObj {
  type: unknown;
  name?: string;
  namespace?: string;
  fields?: { name: string; type: unknown }[];
  items?: unknown;
  values?: unknown;
  logicalType?: string;
  scale?: number;
  precision?: number;
  'connect.name'?: string;
  'connect.type'?: string;
  'connect.parameters'?: Record<string, string>;
  'connect.version'?: number;
}

const PRIM: Record<string, ConnectType> = { boolean: 'boolean', int: 'int32', long: 'int64', float: 'float', double: 'double', bytes: 'bytes', string: 'string' };

/** Registered Avro schema → the Connect schema AvroConverter derived it from. */
export function avroToConnect(schema: unknown, named: Named = new Map(), ns = ''): ConnectSchema {
  if (typeof schema === 'string') {
    const prim = PRIM[schema];
    if (prim) return { type: prim };
    const ref = named.get(schema) ?? named.get(ns ? `${ns}.${schema}` : schema);
    if (ref) return ref;
    return fail('bad-schema', `Avro schema references unknown type ${schema}`);
  }
  if (Array.isArray(schema)) {
    const rest = schema.filter((t) => t !== 'null');
    if (rest.length !== 1) return fail('bad-schema', `Avro union ${JSON.stringify(schema).slice(0, 80)} has more than one non-null branch`);
    return { ...avroToConnect(rest[0], named, ns), optional: rest.length !== schema.length };
  }
  if (typeof schema !== 'object' || schema === null) return fail('bad-schema', 'Avro schema node is not a name, union or object');
  const o = schema as AvroObj;
  const meta: Partial<ConnectSchema> = {};
  if (o['connect.name']) meta.name = o['connect.name'];
  if (o['connect.parameters']) meta.parameters = o['connect.parameters'];
  switch (o.type) {
    case 'record': {
      const space = o.name?.includes('.') ? o.name.slice(0, o.name.lastIndexOf('.')) : (o.namespace ?? ns);
      const short = o.name?.includes('.') ? o.name.slice(o.name.lastIndexOf('.') + 1) : (o.name ?? '');
      const out: ConnectSchema = { type: 'struct', fields: [], name: meta.name ?? (space ? `${space}.${short}` : short) };
      named.set(space ? `${space}.${short}` : short, out);
      named.set(short, out);
      for (const f of o.fields ?? []) out.fields?.push({ ...avroToConnect(f.type, named, space), field: f.name });
      return out;
    }
    case 'array':
      return { type: 'array', items: avroToConnect(o.items, named, ns), ...meta };
    case 'map':
      return { type: 'map', keys: { type: 'string' }, values: avroToConnect(o.values, named, ns), ...meta };
    case 'enum': {
      const out: ConnectSchema = { type: 'string', ...meta };
      if (o.name) named.set(o.namespace ? `${o.namespace}.${o.name}` : o.name, out);
      return out;
    }
    case 'fixed':
      return { type: 'bytes', ...meta };
    default: {
      if (typeof o.type !== 'string' || !PRIM[o.type]) return avroToConnect(o.type, named, ns);
      let type = PRIM[o.type] as ConnectType;
      if (o['connect.type'] === 'int8' || o['connect.type'] === 'int16') type = o['connect.type'];
      const out: ConnectSchema = { type, ...meta };
      if (!out.name && o.logicalType === 'decimal') {
        out.name = 'org.apache.kafka.connect.data.Decimal';
        out.parameters = { scale: String(o.scale ?? 0), 'connect.decimal.precision': String(o.precision ?? 38), ...out.parameters };
      } else if (!out.name && o.logicalType === 'date') out.name = 'org.apache.kafka.connect.data.Date';
      else if (!out.name && o.logicalType === 'time-millis') out.name = 'org.apache.kafka.connect.data.Time';
      else if (!out.name && o.logicalType === 'timestamp-millis') out.name = 'org.apache.kafka.connect.data.Timestamp';
      return out;
    }
  }
}
