/**
 * A per-schema compiled Avro binary decoder for log-block records, straight to the Value
 * contract (plain objects in field order, longs as number when exact else bigint, decimals
 * as exact strings, bytes as fresh Uint8Arrays): the same values as avsc + `toPlain`, without
 * record-class instances and the copy. Schemas outside it (unions of several types) return
 * undefined and the caller uses avsc.
 */
import type { Value } from '../table/schema.js';
import { Unsupported, fullName, orUnsupported } from './avro-compile.js';
import { bytesToDecimal } from './avro-value.js';

/** Scratch for building an int64 BigInt from its two halves. */
const LONG_VIEW = new DataView(new ArrayBuffer(8));

/**
 * Read position over one buffer; decoders check bounds where a length is read. One source
 * serves every datum of a block (`at`), so a record costs no source or DataView of its own.
 */
export class AvroSource {
  pos: number;
  end: number;
  readonly view: DataView;
  constructor(readonly buf: Buffer, start: number, end: number) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Moves to the datum in [start, end) of the same buffer. */
  at(start: number, end: number): this {
    this.pos = start;
    this.end = end;
    return this;
  }

  overrun(): never {
    throw new RangeError(`Avro datum runs past its ${this.end}-byte end`);
  }

  long(): number | bigint {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= this.end) this.overrun();
    let b = buf[pos++] as number;
    // One byte (-64..63: union branches, short string lengths, small values) is most longs.
    if (b < 0x80) {
      this.pos = pos;
      return (b >>> 1) ^ -(b & 1);
    }
    let n = b & 0x7f;
    let shift = 7;
    // Plain number arithmetic while the zigzag value stays below 2^53 (up to 8 bytes, the last
    // holding at most 4 bits: microsecond timestamps of today need 51); longer ones take BigInt.
    while (b & 0x80) {
      if (pos >= this.end) this.overrun();
      b = buf[pos++] as number;
      if (shift === 49 && (b & 0xf0) !== 0) return this.bigLong();
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
    }
    this.pos = pos;
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private bigLong(): number | bigint {
    // The zig-zag value as two 32-bit halves, decoded with int arithmetic, then one BigInt read
    // from 8 scratch bytes: BigInt arithmetic allocated a value per step, and 63-bit source
    // positions (the ordering of nearly every record cdc-lake writes) all take this path.
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b: number;
    do {
      if (pos >= this.end || shift > 63) this.overrun();
      b = buf[pos++] as number;
      const bits = b & 0x7f;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else hi |= bits << (shift - 32); // past bit 63 falls off: the low 64 bits, as before
      shift += 7;
    } while (b & 0x80);
    this.pos = pos;
    const odd = lo & 1;
    const vlo = odd ? ~((lo >>> 1) | (hi << 31)) : (lo >>> 1) | (hi << 31);
    const vhi = odd ? ~(hi >>> 1) : hi >>> 1;
    if (vhi >= -0x200000 && vhi < 0x200000) {
      const n = vhi * 4294967296 + (vlo >>> 0);
      if (n >= -Number.MAX_SAFE_INTEGER) return n;
    }
    LONG_VIEW.setInt32(0, vlo, true);
    LONG_VIEW.setInt32(4, vhi, true);
    return LONG_VIEW.getBigInt64(0, true);
  }

  int(): number {
    const v = this.long();
    if (typeof v !== 'number' || (v | 0) !== v) throw new RangeError(`Avro int ${String(v)} is out of range`);
    return v;
  }

  take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.end) this.overrun();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  length(): number {
    const n = this.long();
    if (typeof n !== 'number' || n < 0 || this.pos + n > this.end) this.overrun();
    return n;
  }
}

export type Decode = (src: AvroSource) => Value;


type Named = Map<string, () => Decode>;

/**
 * A record as one object literal with the field names written in: every row gets its final
 * hidden class at once, where assigning the fields one by one made V8 walk the shape
 * transitions per row (half of a log block's decode time). Field values are decoded left to
 * right, as object literals evaluate. A field named `__proto__` would set the prototype in a
 * literal, so such a record is built by assignment.
 */
function recordDecoder(fields: readonly { name: string; dec: Decode }[]): Decode {
  const decs = fields.map((f) => f.dec);
  if (fields.some((f) => f.name === '__proto__')) {
    return (s) => {
      const out: { [k: string]: Value } = {};
      for (const f of fields) Object.defineProperty(out, f.name, { value: f.dec(s), enumerable: true, writable: true, configurable: true });
      return out;
    };
  }
  const literal = fields.map((f, i) => `${JSON.stringify(f.name)}: d[${i}](s)`).join(', ');
  return new Function('d', `return function record(s) { return { ${literal} }; };`)(decs) as Decode;
}


/**
 * Decodes a record into a row of exactly `fields` (in that order; null for fields the schema
 * lacks) and writes the values of the `side` fields into `side` (same indexes): a projection
 * with no row copy, where unwanted strings and bytes are skipped without being decoded.
 */
export type ProjectedDecode = (src: AvroSource, side: Value[]) => { [k: string]: Value };

/** Compiles a projected decoder for a record `schema`; undefined when not a record or not covered. */
export function compileProjection(schema: unknown, fields: readonly string[], side: readonly string[]): ProjectedDecode | undefined {
  return orUnsupported(() => {
    const o = schema as { type?: unknown; name?: string; namespace?: string; fields?: { name: string; type: unknown }[] } | null;
    if (o === null || typeof o !== 'object' || o.type !== 'record' || !Array.isArray(o.fields)) throw new Unsupported('not a record');
    if (fields.includes('__proto__')) throw new Unsupported('__proto__ field'); // a literal would set the prototype
    const named: Named = new Map();
    compile(schema, named, undefined); // declares every named type, as field types may refer to them
    const name = fullName(o.name ?? '', o.namespace);
    const inner = o.namespace ?? (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined);
    const wanted = new Set([...fields, ...side]);
    const steps = o.fields.map((f) => (wanted.has(f.name) ? compile(f.type, named, inner) : compileSkip(f.type, named, inner)));
    const local = new Map(o.fields.map((f, i) => [f.name, `v${i}`]));
    const body = o.fields.map((f, i) => (wanted.has(f.name) ? `const v${i} = d[${i}](s);` : `d[${i}](s);`)).join(' ');
    const sides = side.map((n, j) => `side[${j}] = ${local.get(n) ?? 'null'};`).join(' ');
    const literal = fields.map((n) => `${JSON.stringify(n)}: ${local.get(n) ?? 'null'}`).join(', ');
    return new Function('d', `return function projected(s, side) { ${body} ${sides} return { ${literal} }; };`)(steps) as ProjectedDecode;
  });
}

/** Moves past a value of `schema`: strings and bytes (also nullable) without decoding them, anything else decoded. */
function compileSkip(schema: unknown, named: Named, ns: string | undefined): (src: AvroSource) => unknown {
  const skipBytes = (s: AvroSource): void => {
    const n = s.length(); // before the += reads pos, which length() moves past the varint
    s.pos += n;
  };
  if (schema === 'string' || schema === 'bytes') return skipBytes;
  if (Array.isArray(schema) && schema.length === 2 && (schema[0] === 'null') !== (schema[1] === 'null')) {
    const nullAt = schema.indexOf('null');
    const other = schema[1 - nullAt];
    if (other === 'string' || other === 'bytes') {
      return (s) => {
        const i = s.long();
        if (i === 1 - nullAt) skipBytes(s);
        else if (i !== nullAt) throw new RangeError(`Avro union index ${String(i)} is out of range`);
      };
    }
  }
  return compile(schema, named, ns);
}

/** Compiles a decoder for `schema`, or undefined when it uses a union of several non-null types. */
export function compileDecoder(schema: unknown): Decode | undefined {
  return orUnsupported(() => compile(schema, new Map(), undefined));
}

function compile(schema: unknown, named: Named, ns: string | undefined): Decode {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return () => null;
      case 'boolean':
        return (s) => {
          if (s.pos >= s.end) s.overrun();
          return s.buf[s.pos++] !== 0;
        };
      case 'int':
        return (s) => s.int();
      case 'long':
        return (s) => s.long();
      case 'float':
        return (s) => {
          if (s.pos + 4 > s.end) s.overrun();
          const v = s.view.getFloat32(s.pos, true);
          s.pos += 4;
          return v;
        };
      case 'double':
        return (s) => {
          if (s.pos + 8 > s.end) s.overrun();
          const v = s.view.getFloat64(s.pos, true);
          s.pos += 8;
          return v;
        };
      case 'string':
        return (s) => {
          const n = s.length();
          const v = s.buf.toString('utf8', s.pos, s.pos + n);
          s.pos += n;
          return v;
        };
      case 'bytes':
        return (s) => new Uint8Array(s.take(s.length()));
      default: {
        const ref = named.get(fullName(schema, ns)) ?? named.get(schema);
        if (ref === undefined) throw new Unsupported(schema);
        return (s) => ref()(s);
      }
    }
  }
  if (Array.isArray(schema)) {
    const nullAt = schema.indexOf('null');
    const others = schema.filter((b) => b !== 'null');
    if (others.length > 1) throw new Unsupported('union');
    const branches = schema.map((b) => (b === 'null' ? () => null : compile(b, named, ns)));
    if (nullAt >= 0 && schema.length === 2) {
      const other = branches[1 - nullAt] as Decode;
      return (s) => {
        const i = s.long();
        if (i === nullAt) return null;
        if (i !== 1 - nullAt) throw new RangeError(`Avro union index ${String(i)} is out of range`);
        return other(s);
      };
    }
    return (s) => {
      const d = branches[Number(s.long())];
      if (d === undefined) throw new RangeError('Avro union index is out of range');
      return d(s);
    };
  }
  if (typeof schema !== 'object' || schema === null) throw new Unsupported(String(schema));
  const o = schema as { type: unknown; logicalType?: unknown; scale?: number; size?: number; name?: string; namespace?: string; fields?: { name: string; type: unknown }[]; items?: unknown; values?: unknown; symbols?: string[] };
  if (o.logicalType === 'decimal' && (o.type === 'bytes' || o.type === 'fixed')) {
    const scale = o.scale ?? 0;
    const size = o.size ?? 0;
    const d: Decode = o.type === 'bytes' ? (s) => bytesToDecimal(s.take(s.length()), scale) : (s) => bytesToDecimal(s.take(size), scale);
    if (o.type === 'fixed' && o.name) named.set(fullName(o.name, o.namespace ?? ns), () => d);
    return d;
  }
  switch (o.type) {
    case 'record':
    case 'error': {
      const name = fullName(o.name ?? '', o.namespace ?? ns);
      let self: Decode | undefined;
      named.set(name, () => self as Decode);
      const inner = o.namespace ?? (name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : ns);
      const fields = (o.fields ?? []).map((f) => ({ name: f.name, dec: compile(f.type, named, inner) }));
      self = recordDecoder(fields);
      return self;
    }
    case 'array': {
      const item = compile(o.items, named, ns);
      return (s) => {
        const out: Value[] = [];
        for (;;) {
          let n = s.long() as number;
          if (n === 0) return out;
          if (n < 0) {
            n = -n;
            s.long(); // block size in bytes
          }
          for (let i = 0; i < n; i++) out.push(item(s));
        }
      };
    }
    case 'map': {
      const val = compile(o.values, named, ns);
      return (s) => {
        const out: { [k: string]: Value } = {};
        for (;;) {
          let n = s.long() as number;
          if (n === 0) return out;
          if (n < 0) {
            n = -n;
            s.long();
          }
          for (let i = 0; i < n; i++) {
            const kn = s.length();
            const k = s.buf.toString('utf8', s.pos, s.pos + kn);
            s.pos += kn;
            out[k] = val(s);
          }
        }
      };
    }
    case 'enum': {
      const symbols = o.symbols ?? [];
      const d: Decode = (s) => {
        const v = symbols[s.int()];
        if (v === undefined) throw new RangeError('Avro enum index is out of range');
        return v;
      };
      if (o.name) named.set(fullName(o.name, o.namespace ?? ns), () => d);
      return d;
    }
    case 'fixed': {
      const size = o.size ?? 0;
      const d: Decode = (s) => new Uint8Array(s.take(size));
      if (o.name) named.set(fullName(o.name, o.namespace ?? ns), () => d);
      return d;
    }
    default:
      if (typeof o.type === 'string' || (typeof o.type === 'object' && o.type !== null)) return compile(o.type, named, ns);
      throw new Unsupported(JSON.stringify(schema));
  }
}
