/**
 * Schemaless JSON (`schemas.enable=false`): column types come from a declared table schema
 * when one is configured, else from the values themselves (integers → long, other numbers
 * → double; objects and maps → JSON text; a column seen only as null is "untyped" until a
 * real value arrives, see SchemaTracker). Values are kept as they arrived.
 */
import type { AvroField, AvroType, Row, TableSchema, Value } from '../table/schema.js';
import { nonNull, nullable } from '../table/schema.js';
import { fail } from './invalid-record.js';
import * as sv from './semantic-value.js';

const UNTYPED: AvroType = { type: 'string', 'cdc.semantic': 'untyped' };
const JSON_TEXT: AvroType = { type: 'string', 'cdc.semantic': 'json' };

const NULLABLE = {
  long: nullable('long'),
  double: nullable('double'),
  string: nullable('string'),
  boolean: nullable('boolean'),
  untyped: nullable(UNTYPED),
  json: nullable(JSON_TEXT),
};

/** Shared nullable type objects for scalars, so schema comparison is by identity. */
function inferNullable(v: unknown): AvroType {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? NULLABLE.long : NULLABLE.double;
    case 'bigint':
      return NULLABLE.long;
    case 'string':
      return NULLABLE.string;
    case 'boolean':
      return NULLABLE.boolean;
    default:
      if (v === null || v === undefined) return NULLABLE.untyped;
      if (Array.isArray(v)) {
        const t = inferType(v);
        const k = JSON.stringify(t);
        let c = ARRAYS.get(k);
        if (!c) ARRAYS.set(k, (c = nullable(t)));
        return c;
      }
      return NULLABLE.json;
  }
}

const ARRAYS = new Map<string, AvroType>();

function inferType(v: unknown): AvroType {
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'long' : 'double';
    case 'bigint':
      return 'long';
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      if (v === null || v === undefined) return UNTYPED;
      if (Array.isArray(v)) {
        const first = v.find((e) => e !== null && e !== undefined);
        return { type: 'array', items: nullable(first === undefined ? UNTYPED : inferType(first)) };
      }
      return JSON_TEXT;
  }
}

function inferValue(v: unknown, path: string): Value {
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      return sv.toLong(v, path);
    default:
      if (v === null || v === undefined) return null;
      if (Array.isArray(v)) return v.map((e) => inferValue(e, path));
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));
  }
}

/** Whether `v` fits a column already inferred as `t` without changing its type (null fits every column). */
function fits(v: unknown, t: AvroType): boolean {
  switch (typeof v) {
    case 'number':
      return t === NULLABLE.double || (t === NULLABLE.long && Number.isInteger(v));
    case 'bigint':
      return t === NULLABLE.long;
    case 'string':
      return t === NULLABLE.string;
    case 'boolean':
      return t === NULLABLE.boolean;
    default:
      if (v === null || v === undefined) return true;
      if (Array.isArray(v)) return inferNullable(v) === t;
      return t === NULLABLE.json;
  }
}

/**
 * Row + inferred Avro fields from a bare JSON object. With `prev` (the fields this table's
 * records had last time), a record whose columns are the same, in the same order, and
 * whose values fit those types returns `prev` itself: schemaless records repeat their
 * shape, and identical field arrays let the table schema and the SchemaTracker be reused
 * by identity instead of re-inferred per record. With `owned` (the object is the caller's
 * own freshly parsed payload) the row is `obj` itself, converted in place: most values
 * are kept as they are, so copying them would only feed the garbage collector.
 */
export function inferRow(obj: unknown, what: string, prev?: readonly AvroField[], owned = false): { row: Row; fields: AvroField[] } {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return sv.mismatch(what, 'an object', obj);
  const src = obj as Record<string, unknown>;
  const row: Row = owned ? (src as Row) : {};
  // Stays undefined while every column fits `prev`; from the first misfit on, the fields
  // built so far (fitting columns keep prev's field: their values fit that type).
  let fields: AvroField[] | undefined = prev === undefined ? [] : undefined;
  let i = 0;
  for (const k in src) {
    const v = src[k];
    if (fields === undefined) {
      const f = (prev as readonly AvroField[])[i];
      if (f === undefined || f.name !== k || !fits(v, f.type)) fields = (prev as readonly AvroField[]).slice(0, i);
    }
    if (fields !== undefined) fields.push({ name: k, type: inferNullable(v), default: null });
    if (!owned || (typeof v === 'object' && v !== null) || typeof v === 'bigint') row[k] = inferValue(v, `${what}.${k}`);
    i++;
  }
  if (fields === undefined) return i === (prev as readonly AvroField[]).length ? { row, fields: prev as AvroField[] } : { row, fields: (prev as readonly AvroField[]).slice(0, i) };
  return { row, fields };
}

type Conv = (v: unknown, path: string) => Value;

function decimalText(v: unknown, scale: number, path: string): string {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) {
    const [i, f = ''] = v.split('.');
    if (f.length > scale) return sv.mismatch(path, `a decimal with at most ${scale} fraction digits`, v);
    return scale === 0 ? (i as string) : `${i}.${f.padEnd(scale, '0')}`;
  }
  return sv.toDecimal(v, scale, path);
}

function converterFor(t: AvroType): Conv {
  const n = nonNull(t);
  if (typeof n === 'string') {
    switch (n) {
      case 'int':
        return sv.toInt;
      case 'long':
        return sv.toLong;
      case 'float':
      case 'double':
        return sv.toDouble;
      case 'boolean':
        return sv.toBool;
      case 'bytes':
        return sv.toBytes;
      case 'string':
        return sv.toStr;
      default:
        return fail('bad-schema', `declared column type ${n} is not supported`);
    }
  }
  if (Array.isArray(n)) return fail('bad-schema', 'declared column type is a union other than ["null", T]');
  if (n.type === 'array') {
    const item = converterFor((n as { items: AvroType }).items);
    return (v, path) => (Array.isArray(v) ? v.map((e) => (e === null ? null : item(e, path))) : sv.mismatch(path, 'an array', v));
  }
  if (n.type === 'record') return sv.toGeometry;
  const o = n as { type: string; logicalType?: string; scale?: number; 'cdc.semantic'?: string };
  if (o.logicalType === 'decimal') {
    const scale = o.scale ?? 0;
    return (v, path) => decimalText(v, scale, path);
  }
  if (o['cdc.semantic'] === 'variable-decimal') return (v, path) => (typeof v === 'string' ? v : sv.toVariableDecimal(v, path));
  if (o['cdc.semantic'] === 'nano-timestamp') return sv.toBigLong;
  return converterFor(o.type as AvroType);
}

const declaredCache = new WeakMap<TableSchema, { name: string; conv: Conv }[]>();

/** Row converted per a declared table schema; unknown extra columns are an error. */
export function declaredRow(schema: TableSchema, obj: unknown, what: string): Row {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return sv.mismatch(what, 'an object', obj);
  let convs = declaredCache.get(schema);
  if (!convs) {
    convs = schema.fields.map((f) => ({ name: f.name, conv: converterFor(f.type) }));
    declaredCache.set(schema, convs);
  }
  const src = obj as Record<string, unknown>;
  const row: Row = {};
  for (const c of convs) {
    const v = src[c.name];
    row[c.name] = v === null || v === undefined ? null : c.conv(v, `${what}.${c.name}`);
  }
  for (const k of Object.keys(src)) if (!(k in row)) fail('type-mismatch', `${what} has column ${k}, which the declared schema of this table lacks; add it to the declared schema`);
  return row;
}
