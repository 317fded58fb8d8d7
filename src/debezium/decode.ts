/**
 * decodeRecord: Kafka record bytes → Decoded. Never throws for bad input: every failure
 * becomes `{kind: 'invalid'}` with an InvalidRecord naming topic/partition/offset.
 * JSON is decoded synchronously; Avro needs its registry schema first
 * (`decodeRecordAsync`, or `resolveAvroSchemas` then `decodeRecord`).
 */
import { crc32 } from 'node:zlib';
import type avro from 'avsc';
import type { RecordOrigin } from './change-event.js';
import type { CodecOptions, ConnectSchema } from './connect-schema.js';
import { RowCodec } from './connect-schema.js';
import type { Decoded, DecodeOptions, KafkaRecordIn } from './decoded.js';
import type { Env, KeyIn, ValueShape } from './envelope.js';
import { compileValueShape, interpret } from './envelope.js';
import { avroToConnect, avroType, decodeBody, decodingType, readWireHeader, schemaIdOf, schemaKeyOf, schemaKeyText } from './avro.js';
import { DecodeFailure, fail, InvalidRecord } from './invalid-record.js';
import { asBuffer, flatIntKey, parseJson, splitEnvelope } from './json-text.js';
import type { SchemaSource } from './schema-registry.js';
import { SchemaRegistryError } from './schema-registry.js';
import type { SchemaTracker } from './schema-tracker.js';

export interface DecodeContextOptions extends DecodeOptions {
  /** Folds event schemas into evolving table schemas; without it each event carries its own. */
  tracker?: SchemaTracker;
  /** Needed for Avro records. */
  registry?: SchemaSource;
}

/** One compiled Connect schema, usable as a value envelope or as a key struct. */
interface CompiledSchema {
  bytes: Buffer | null;
  schema: ConnectSchema | null;
  shape?: ValueShape | DecodeFailure;
  key?: RowCodec | DecodeFailure;
  error?: DecodeFailure;
}

/** One resolved writer schema (by registry id), with what its records need compiled once. */
interface AvroEntry {
  type: avro.Type;
  connect: ConnectSchema;
  compiled: CompiledSchema;
  /** Its value shape / key codec once asked for (`valueShape` / `keyCodec` of `compiled`). */
  shape?: ValueShape;
  key?: RowCodec | null;
}

const MAX_CACHED = 10_000;

/** Decoder state: options and the per-schema caches. Create one per pipeline. */
export class DecodeContext {
  readonly env: Env;
  readonly registry: SchemaSource | undefined;
  private readonly byCrc = new Map<number, CompiledSchema[]>();
  private readonly byText = new Map<string, CompiledSchema>();
  private size = 0;
  /** Resolved Avro schemas by schema key (`schemaKeyOf`); failures are kept so a bad id is not fetched per record. */
  readonly avro = new Map<number, AvroEntry | DecodeFailure>();

  constructor(opts: DecodeContextOptions = {}) {
    const codecOpts: CodecOptions = {
      binaryHandling: opts.binaryHandling ?? 'bytes',
      binaryColumns: new Set(opts.binaryColumns ?? []),
      placeholder: opts.unavailablePlaceholder ?? '__debezium_unavailable_value',
    };
    this.env = { opts, codecOpts, prefix: opts.flattenedPrefix ?? '__', tracker: opts.tracker, inferred: new Map(), tableNames: new Map(), lastKeyFields: [], scratch: [], fast: new Map() };
    this.registry = opts.registry;
  }

  private evict(): void {
    if (++this.size > MAX_CACHED) {
      this.byCrc.clear();
      this.byText.clear();
      this.size = 0;
    }
  }

  /** The compiled schema for these schema bytes (crc32 + byte equality). */
  schemaForBytes(bytes: Buffer): CompiledSchema {
    const h = crc32(bytes);
    const list = this.byCrc.get(h);
    if (list) for (const c of list) if (c.bytes !== null && c.bytes.equals(bytes)) return c;
    this.evict();
    const c = compileText(Buffer.from(bytes));
    if (list) list.push(c);
    else this.byCrc.set(h, [c]);
    return c;
  }

  /** The compiled schema for an already-parsed schema object (slow path). */
  schemaForObject(schema: unknown): CompiledSchema {
    const text = JSON.stringify(schema, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
    let c = this.byText.get(text);
    if (!c) {
      this.evict();
      c = { bytes: null, schema: checkSchema(schema) };
      this.byText.set(text, c);
    }
    return c;
  }
}

export function createDecodeContext(opts: DecodeContextOptions = {}): DecodeContext {
  return new DecodeContext(opts);
}

function checkSchema(s: unknown): ConnectSchema {
  if (typeof s !== 'object' || s === null || typeof (s as { type?: unknown }).type !== 'string') return fail('bad-schema', 'embedded Connect schema is not an object with a type');
  return s as ConnectSchema;
}

function compileText(bytes: Buffer): CompiledSchema {
  try {
    return { bytes, schema: checkSchema(JSON.parse(bytes.toString('utf8'))) };
  } catch (e) {
    const err = e instanceof DecodeFailure ? e : new DecodeFailure('malformed-json', `embedded schema is not valid JSON: ${(e as Error).message}`);
    return { bytes, schema: null, error: err };
  }
}

function valueShape(c: CompiledSchema, env: Env): ValueShape {
  if (c.error) throw c.error;
  if (c.shape === undefined) {
    try {
      c.shape = compileValueShape(c.schema as ConnectSchema, env);
    } catch (e) {
      c.shape = e instanceof DecodeFailure ? e : new DecodeFailure('bad-schema', (e as Error).message);
    }
  }
  if (c.shape instanceof DecodeFailure) throw c.shape;
  return c.shape;
}

function keyCodec(c: CompiledSchema, env: Env): RowCodec | null {
  if (c.error) throw c.error;
  const s = c.schema as ConnectSchema;
  if (s.type !== 'struct') return null;
  if (c.key === undefined) {
    try {
      c.key = new RowCodec(s, env.codecOpts, 'key');
    } catch (e) {
      c.key = e instanceof DecodeFailure ? e : new DecodeFailure('bad-schema', (e as Error).message);
    }
  }
  if (c.key instanceof DecodeFailure) throw c.key;
  return c.key;
}

function firstNonSpace(b: Uint8Array): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c;
  }
  return -1;
}

function parseText(text: string, what: string): unknown {
  try {
    return parseJson(text);
  } catch (e) {
    return fail('malformed-json', `${what} is not valid JSON: ${(e as Error).message}`);
  }
}

function isEnvelopeObject(v: unknown): v is { schema: unknown; payload: unknown } {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !('schema' in v) || !('payload' in v)) return false;
  // counted only for a candidate: every schemaless value passes here, and a key array per record is garbage
  let n = 0;
  for (const _k in v) n++;
  return n === 2;
}

/** JSON value bytes → {payload, shape}. */
function jsonValue(buf: Buffer, ctx: DecodeContext): { payload: unknown; shape: ValueShape | null } {
  const split = splitEnvelope(buf);
  if (split) {
    const c = ctx.schemaForBytes(split.schema);
    const payload = parseText(split.payload, 'value payload');
    if (payload === null) return { payload, shape: null };
    return { payload, shape: valueShape(c, ctx.env) };
  }
  const v = parseText(buf.toString('utf8'), 'value');
  if (isEnvelopeObject(v)) {
    if (v.payload === null || v.schema === null) return { payload: v.payload, shape: null };
    return { payload: v.payload, shape: valueShape(ctx.schemaForObject(v.schema), ctx.env) };
  }
  return { payload: v, shape: null };
}

function jsonKey(buf: Buffer, ctx: DecodeContext): KeyIn {
  const flat = flatIntKey(buf);
  if (flat !== undefined) return { obj: flat, codec: null };
  const split = splitEnvelope(buf);
  if (split) {
    const payload = parseText(split.payload, 'key payload');
    return { obj: payload, codec: payload === null ? null : keyCodec(ctx.schemaForBytes(split.schema), ctx.env) };
  }
  const v = parseText(buf.toString('utf8'), 'key');
  if (isEnvelopeObject(v)) {
    if (v.payload === null || v.schema === null) return { obj: v.payload, codec: null };
    return { obj: v.payload, codec: keyCodec(ctx.schemaForObject(v.schema), ctx.env) };
  }
  return { obj: v, codec: null };
}

/** The writer schema of a framed record (buf[0] is 0) and its schema key. */
function avroEntryOf(buf: Buffer, ctx: DecodeContext): { entry: AvroEntry; key: number } {
  // a header that does not read: readWireHeader names the problem
  const key = schemaKeyOf(buf) ?? readWireHeader(buf);
  const e = ctx.avro.get(key);
  if (e === undefined) return fail('schema-not-resolved', `Avro ${schemaKeyText(key)} is not resolved; use decodeRecordAsync or resolveAvroSchemas first`);
  if (e instanceof DecodeFailure) throw e;
  return { entry: e, key };
}

function decodeKey(key: Uint8Array | null, ctx: DecodeContext): KeyIn {
  if (key === null || key.length === 0) return { obj: null, codec: null };
  const buf = asBuffer(key);
  if (buf[0] === 0) {
    const { entry, key } = avroEntryOf(buf, ctx);
    const obj = decodeBody(entry.type, buf, key);
    return { obj, codec: entry.key !== undefined ? entry.key : (entry.key = keyCodec(entry.compiled, ctx.env)) };
  }
  const c = firstNonSpace(buf);
  if (c === 0x7b || c === 0x6e /* null */) return jsonKey(buf, ctx);
  // A bare JSON scalar key (e.g. a string key) carries no column name: not a Debezium key.
  return fail('bad-key', 'record key is not a JSON object or Avro record');
}

function decodeInner(rec: KafkaRecordIn, ctx: DecodeContext, origin: RecordOrigin): Decoded {
  const value = rec.value;
  if (value === null) return { kind: 'tombstone', origin };
  if (value.length === 0) return fail('empty-value', 'value is empty (0 bytes); a Kafka tombstone is a null value');
  const buf = asBuffer(value);
  let payload: unknown;
  let shape: ValueShape | null;
  const format = ctx.env.opts.format;
  if (buf[0] === 0) {
    if (format === 'json') return fail('unknown-format', 'value is registry-framed Avro (magic byte 0x00), but source.format is json: set it to avro or auto');
    const { entry, key } = avroEntryOf(buf, ctx);
    payload = decodeBody(entry.type, buf, key);
    shape = entry.shape ?? (entry.shape = valueShape(entry.compiled, ctx.env));
  } else {
    if (format === 'avro') return fail('unknown-format', `value is not registry-framed Avro (its first byte is 0x${(buf[0] as number).toString(16)}, not the magic 0x00), but source.format is avro: set it to json or auto`);
    const c = firstNonSpace(buf);
    if (c !== 0x7b && c !== 0x6e && c !== 0x5b && c !== 0x22 && !(c >= 0x30 && c <= 0x39) && c !== 0x2d && c !== 0x74 && c !== 0x66) {
      return fail('unknown-format', `value starts with byte 0x${(buf[0] as number).toString(16)}: neither JSON nor registry-framed Avro`);
    }
    ({ payload, shape } = jsonValue(buf, ctx));
  }
  if (payload === null) return { kind: 'tombstone', origin };
  return interpret(origin, payload, decodeKey(rec.key, ctx), shape, ctx.env);
}

/** Decode one Kafka record. Never throws for bad input. */
export function decodeRecord(rec: KafkaRecordIn, ctx: DecodeContext): Decoded {
  const origin: RecordOrigin = { topic: rec.topic, partition: rec.partition, offset: rec.offset };
  try {
    return decodeInner(rec, ctx, origin);
  } catch (e) {
    if (e instanceof DecodeFailure) {
      const table = e.reason === 'incompatible-schema-change' ? /^table (\S+):/.exec(e.message)?.[1] : undefined;
      return { kind: 'invalid', error: new InvalidRecord(origin, e.reason, e.message, table) };
    }
    // A bug or an unforeseen input shape: still a dead letter, never a crash.
    return { kind: 'invalid', error: new InvalidRecord(origin, 'unknown-format', `decoder error: ${(e as Error)?.message ?? String(e)}`) };
  }
}

/**
 * Fetch and compile the Avro schemas a record references. Unknown ids (404) and unusable
 * schemas are remembered as failures (the record then decodes to `invalid`); registry
 * outages reject with SchemaRegistryError so the pipeline retries instead of dead-lettering.
 */
export async function resolveAvroSchemas(rec: KafkaRecordIn, ctx: DecodeContext): Promise<void> {
  for (const key of [schemaKeyOf(rec.key), schemaKeyOf(rec.value)]) {
    if (key === null || ctx.avro.has(key)) continue;
    if (!ctx.registry) {
      ctx.avro.set(key, new DecodeFailure('unknown-schema-id', `Avro record references ${schemaKeyText(key)} but no schema registry is configured`));
      continue;
    }
    let text: string;
    try {
      const { id, idBytes } = schemaIdOf(key);
      text = await ctx.registry.schemaById(id, idBytes);
    } catch (e) {
      if (e instanceof SchemaRegistryError && e.permanent) {
        ctx.avro.set(key, new DecodeFailure(e.notFound ? 'unknown-schema-id' : 'bad-schema', e.message));
        continue;
      }
      throw e;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      const connect = avroToConnect(parsed);
      ctx.avro.set(key, { type: decodingType(avroType(parsed)), connect, compiled: { bytes: null, schema: connect } });
    } catch (e) {
      ctx.avro.set(key, e instanceof DecodeFailure ? e : new DecodeFailure('bad-schema', `${schemaKeyText(key)} is not a usable Avro schema: ${(e as Error).message}`));
    }
  }
}

/** decodeRecord with the registry lookup for Avro records (JSON records resolve immediately). */
export async function decodeRecordAsync(rec: KafkaRecordIn, ctx: DecodeContext): Promise<Decoded> {
  if (schemaKeyOf(rec.key) !== null || schemaKeyOf(rec.value) !== null) await resolveAvroSchemas(rec, ctx);
  return decodeRecord(rec, ctx);
}
