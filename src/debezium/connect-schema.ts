/**
 * Kafka Connect schemas (as JsonConverter prints them, or as recovered from Avro
 * `connect.*` attributes) and their compilation, once per schema, into column codecs:
 * the table's Avro column type plus a function that turns a wire value into a `Value`.
 */
import type { AvroField, AvroRecord, AvroType, Row, Value } from '../table/schema.js';
import { nullable } from '../table/schema.js';
import { fail } from './invalid-record.js';
import * as sv from './semantic-value.js';

export type ConnectType =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'float' | 'float32' | 'double' | 'float64'
  | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';

export interface ConnectSchema {
  type: ConnectType;
  optional?: boolean;
  name?: string;
  version?: number;
  doc?: string;
  parameters?: Record<string, string>;
  default?: unknown;
  fields?: ConnectSchema[];
  items?: ConnectSchema;
  keys?: ConnectSchema;
  values?: ConnectSchema;
  /** Field name when inside a struct. */
  field?: string;
}

export interface CodecOptions {
  /** How BYTEA/BLOB columns arrive (Debezium `binary.handling.mode`). */
  binaryHandling: 'bytes' | 'base64' | 'hex';
  /**
   * Columns (`col` or `schema.table.col`) that are binary in base64/hex mode: the schema
   * says `string` there, so the mode alone cannot tell them from text.
   */
  binaryColumns: ReadonlySet<string>;
  /** `unavailable.value.placeholder`. */
  placeholder: string;
}

export interface ColumnCodec {
  avro: AvroType;
  convert: (v: unknown, path: string) => Value;
  /** Whether the wire value is the TOAST placeholder (only for string/bytes/array columns). */
  isPlaceholder: ((v: unknown) => boolean) | null;
}

const SEMANTIC_STRING: Record<string, string> = {
  'io.debezium.time.ZonedTimestamp': 'zoned-timestamp',
  'io.debezium.time.ZonedTime': 'zoned-time',
  'io.debezium.time.Interval': 'interval',
  'io.debezium.time.IsoDate': 'iso-date',
  'io.debezium.time.IsoTime': 'iso-time',
  'io.debezium.time.IsoTimestamp': 'iso-timestamp',
  'io.debezium.data.Json': 'json',
  'io.debezium.data.Uuid': 'uuid',
  'io.debezium.data.Xml': 'xml',
  'io.debezium.data.Enum': 'enum',
  'io.debezium.data.EnumSet': 'enumset',
  'io.debezium.data.Ltree': 'ltree',
};

const GEOMETRY = new Set(['io.debezium.data.geometry.Geometry', 'io.debezium.data.geometry.Geography', 'io.debezium.data.geometry.Point']);

function literalTypeIs(s: ConnectSchema, ...types: ConnectType[]): void {
  if (!types.includes(s.type)) fail('bad-schema', `semantic type ${s.name} on field ${s.field ?? '?'} must be ${types.join('|')}, schema says ${s.type}`);
}

function placeholderCheck(s: ConnectSchema, opts: CodecOptions): ((v: unknown) => boolean) | null {
  const p = opts.placeholder;
  if (s.type === 'string') return (v) => v === p;
  if (s.type === 'bytes') {
    const b64 = Buffer.from(p).toString('base64');
    const bytes = Buffer.from(p);
    // Length first: almost no value has the placeholder's length, so the native compare is rarely reached.
    return (v) => v === b64 || (v instanceof Uint8Array && v.length === bytes.length && Buffer.compare(v, bytes) === 0);
  }
  if (s.type === 'array') {
    return (v) => {
      if (!Array.isArray(v)) return false;
      if (v.length === 1 && v[0] === p) return true;
      if (v.length !== p.length) return false;
      for (let i = 0; i < p.length; i++) if (v[i] !== p.charCodeAt(i)) return false;
      return true;
    };
  }
  return null;
}

function sem(type: AvroType & object, semantic: string): AvroType {
  return { ...(type as object), 'cdc.semantic': semantic } as AvroType;
}

/** One column: Avro type + converter, derived from the Connect field schema. */
export function columnCodec(s: ConnectSchema, opts: CodecOptions, qualifiedName: string): ColumnCodec {
  const isPlaceholder = placeholderCheck(s, opts);
  const name = s.name;
  if (name !== undefined) {
    const strSem = SEMANTIC_STRING[name];
    if (strSem !== undefined) {
      literalTypeIs(s, 'string');
      return { avro: sem({ type: 'string' }, strSem), convert: sv.toStr, isPlaceholder };
    }
    switch (name) {
      case 'org.apache.kafka.connect.data.Decimal': {
        literalTypeIs(s, 'bytes');
        const scale = Number(s.parameters?.['scale'] ?? 'NaN');
        if (!Number.isInteger(scale)) fail('bad-schema', `Decimal field ${s.field ?? '?'} has no integer scale parameter`);
        const p = Number(s.parameters?.['connect.decimal.precision'] ?? 38);
        const precision = Number.isInteger(p) && p > 0 ? Math.min(p, 38) : 38;
        return {
          avro: { type: 'bytes', logicalType: 'decimal', precision: Math.max(precision, scale), scale },
          convert: (v, path) => sv.toDecimal(v, scale, path),
          isPlaceholder: null,
        };
      }
      case 'io.debezium.data.VariableScaleDecimal':
        literalTypeIs(s, 'struct');
        return { avro: sem({ type: 'string' }, 'variable-decimal'), convert: sv.toVariableDecimal, isPlaceholder: null };
      case 'io.debezium.time.Date':
      case 'org.apache.kafka.connect.data.Date':
        literalTypeIs(s, 'int32');
        return { avro: { type: 'int', logicalType: 'date' }, convert: sv.toInt, isPlaceholder: null };
      case 'io.debezium.time.Time':
      case 'org.apache.kafka.connect.data.Time':
        literalTypeIs(s, 'int32');
        return { avro: { type: 'int', logicalType: 'time-millis' }, convert: sv.toInt, isPlaceholder: null };
      case 'io.debezium.time.MicroTime':
        literalTypeIs(s, 'int64');
        return { avro: { type: 'long', logicalType: 'time-micros' }, convert: sv.toLong, isPlaceholder: null };
      case 'io.debezium.time.NanoTime':
        literalTypeIs(s, 'int64');
        return { avro: sem({ type: 'long' }, 'nano-time'), convert: sv.toLong, isPlaceholder: null };
      case 'io.debezium.time.Timestamp':
      case 'org.apache.kafka.connect.data.Timestamp':
        literalTypeIs(s, 'int64');
        return { avro: { type: 'long', logicalType: 'timestamp-millis' }, convert: sv.toLong, isPlaceholder: null };
      case 'io.debezium.time.MicroTimestamp':
        literalTypeIs(s, 'int64');
        return { avro: { type: 'long', logicalType: 'timestamp-micros' }, convert: sv.toLong, isPlaceholder: null };
      case 'io.debezium.time.NanoTimestamp':
        literalTypeIs(s, 'int64');
        return { avro: sem({ type: 'long' }, 'nano-timestamp'), convert: sv.toBigLong, isPlaceholder: null };
      case 'io.debezium.time.MicroDuration':
        literalTypeIs(s, 'int64');
        return { avro: sem({ type: 'long' }, 'micro-duration'), convert: sv.toLong, isPlaceholder: null };
      case 'io.debezium.time.Year':
        literalTypeIs(s, 'int32');
        return { avro: sem({ type: 'int' }, 'year'), convert: sv.toInt, isPlaceholder: null };
      case 'io.debezium.data.Bits':
        literalTypeIs(s, 'bytes');
        return { avro: sem({ type: 'bytes' }, 'bits'), convert: sv.toBytes, isPlaceholder };
      default:
        if (GEOMETRY.has(name)) {
          literalTypeIs(s, 'struct');
          const rec = {
            type: 'record',
            name: `${(s.field ?? 'geometry').replace(/[^A-Za-z0-9_]/g, '_')}_geometry`,
            fields: [
              { name: 'wkb', type: ['null', 'bytes'], default: null },
              { name: 'srid', type: ['null', 'int'], default: null },
            ],
            'cdc.semantic': 'geometry',
          } as AvroRecord;
          return { avro: rec, convert: sv.toGeometry, isPlaceholder: null };
        }
        if (name.startsWith('io.debezium.') || name.startsWith('org.apache.kafka.connect.data.')) {
          fail('unknown-semantic-type', `field ${s.field ?? '?'} has semantic type ${name}, which cdc-lake does not know; change the connector's type mapping for it`);
        }
    }
  }
  switch (s.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      return { avro: 'int', convert: sv.toInt, isPlaceholder: null };
    case 'int64':
      return { avro: 'long', convert: sv.toLong, isPlaceholder: null };
    case 'float':
    case 'float32':
      return { avro: 'float', convert: sv.toDouble, isPlaceholder: null };
    case 'double':
    case 'float64':
      return { avro: 'double', convert: sv.toDouble, isPlaceholder: null };
    case 'boolean':
      return { avro: 'boolean', convert: sv.toBool, isPlaceholder: null };
    case 'string': {
      const short = qualifiedName.slice(qualifiedName.lastIndexOf('.') + 1);
      if (opts.binaryHandling !== 'bytes' && (opts.binaryColumns.has(qualifiedName) || opts.binaryColumns.has(short))) {
        const dec = opts.binaryHandling === 'hex' ? sv.fromHex : sv.toBytes;
        return { avro: 'bytes', convert: dec, isPlaceholder };
      }
      return { avro: 'string', convert: sv.toStr, isPlaceholder };
    }
    case 'bytes':
      return { avro: 'bytes', convert: sv.toBytes, isPlaceholder };
    case 'array': {
      if (!s.items) return fail('bad-schema', `array field ${s.field ?? '?'} has no items schema`);
      const item = columnCodec(s.items, opts, `${qualifiedName}[]`);
      const conv = item.convert;
      return {
        avro: { type: 'array', items: nullable(item.avro) },
        convert: (v, path) => {
          if (!Array.isArray(v)) return sv.mismatch(path, 'an array', v);
          const out: Value[] = new Array(v.length);
          for (let i = 0; i < v.length; i++) {
            const e: unknown = v[i];
            out[i] = e === null || e === undefined ? null : conv(e, path);
          }
          return out;
        },
        isPlaceholder,
      };
    }
    case 'map':
    case 'struct':
      // Not in the table contract: kept as JSON text so nothing is lost.
      return {
        avro: sem({ type: 'string' }, 'json'),
        convert: (v) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x)),
        isPlaceholder: null,
      };
    default:
      return fail('bad-schema', `field ${s.field ?? '?'} has unknown Connect type ${JSON.stringify((s as { type: unknown }).type)}`);
  }
}

interface CompiledField {
  name: string;
  optional: boolean;
  convert: (v: unknown, path: string) => Value;
  isPlaceholder: ((v: unknown) => boolean) | null;
  path: string;
}

/** A struct (row) schema compiled once: its Avro fields and a row converter. */
export class RowCodec {
  readonly fields: readonly CompiledField[];
  readonly avroFields: AvroField[];
  readonly names: string[];
  constructor(struct: ConnectSchema, opts: CodecOptions, table: string) {
    if (struct.type !== 'struct' || !Array.isArray(struct.fields)) fail('bad-schema', `row schema of ${table} is not a struct`);
    const fields: CompiledField[] = [];
    this.avroFields = [];
    this.names = [];
    for (const f of struct.fields ?? []) {
      if (typeof f !== 'object' || f === null || typeof f.field !== 'string') fail('bad-schema', `a field of ${table} has no name`);
      const codec = columnCodec(f, opts, `${table}.${f.field}`);
      fields.push({ name: f.field, optional: f.optional === true, convert: codec.convert, isPlaceholder: codec.isPlaceholder, path: `${table}.${f.field}` });
      this.avroFields.push({ name: f.field, type: nullable(codec.avro), default: null });
      this.names.push(f.field);
    }
    this.fields = fields;
    this.compiled = this.generate();
  }

  /** Payload struct → Row. Placeholder columns become null and are listed in `unavailable`. */
  convert(obj: unknown, unavailable: string[] | null, what: string): Row {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || obj instanceof Uint8Array) return sv.mismatch(what, 'a struct', obj);
    return this.compiled(obj as Record<string, unknown>, unavailable);
  }

  /** The per-schema converter: generated once, so every row is one object literal of a fixed shape. */
  private readonly compiled: (src: Record<string, unknown>, unavailable: string[] | null) => Row;

  private generate(): (src: Record<string, unknown>, unavailable: string[] | null) => Row {
    const fields = this.fields;
    if (fields.some((f) => f.name === '__proto__')) return (src, u) => this.convertLoop(src, u);
    const lines: string[] = [];
    fields.forEach((f, i) => {
      const v = `v${i}`;
      lines.push(`let ${v} = s[${JSON.stringify(f.name)}];`);
      lines.push(`if (${v} === null || ${v} === undefined) { ${f.optional ? '' : `if (${v} === null) bad(${i});`} ${v} = null; }`);
      if (f.isPlaceholder) lines.push(`else if (u !== null && ph[${i}](${v})) { u.push(names[${i}]); ${v} = null; }`);
      lines.push(`else ${v} = cv[${i}](${v}, paths[${i}]);`);
    });
    lines.push(`return {${fields.map((f, i) => `${JSON.stringify(f.name)}: v${i}`).join(', ')}};`);
    const factory = new Function('cv', 'ph', 'paths', 'names', 'bad', `return function convertRow(s, u) {\n${lines.join('\n')}\n};`) as (
      ...a: unknown[]
    ) => (src: Record<string, unknown>, unavailable: string[] | null) => Row;
    const bad = (i: number): never => sv.mismatch((fields[i] as CompiledField).path, 'a value (the field is not optional)', null);
    return factory(
      fields.map((f) => f.convert),
      fields.map((f) => f.isPlaceholder),
      fields.map((f) => f.path),
      fields.map((f) => f.name),
      bad,
    );
  }

  private convertLoop(src: Record<string, unknown>, unavailable: string[] | null): Row {
    const row: Row = {};
    for (const f of this.fields) {
      const raw = src[f.name];
      if (raw === null || raw === undefined) {
        if (raw === null && !f.optional) sv.mismatch(f.path, 'a value (the field is not optional)', raw);
        row[f.name] = null;
      } else if (unavailable !== null && f.isPlaceholder !== null && f.isPlaceholder(raw)) {
        unavailable.push(f.name);
        row[f.name] = null;
      } else {
        row[f.name] = f.convert(raw, f.path);
      }
    }
    return row;
  }
}
