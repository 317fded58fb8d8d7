/**
 * Java `java.util.Properties` text, as Hudi stores `hoodie.properties` and
 * `.hoodie_partition_metadata`, plus the table-config profile cdc-lake writes.
 */
import { crc32 } from 'node:zlib';

/** Error for a malformed properties file; names the file/line so the user can fix it. */
export class PropertiesError extends Error {
  override readonly name = 'PropertiesError';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Date.toString()` of Java in UTC, e.g. `Wed Jun 18 05:47:10 UTC 2025` (Properties.store's date line). */
export function javaDateString(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

function escape(s: string, isKey: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    const code = s.charCodeAt(i);
    switch (c) {
      case '\\': out += '\\\\'; break;
      case ' ': out += i === 0 || isKey ? '\\ ' : ' '; break;
      case '\t': out += '\\t'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\f': out += '\\f'; break;
      case '=': case ':': case '#': case '!': out += '\\' + c; break;
      default:
        // Java escapes everything outside printable ASCII as \uXXXX (UTF-16 units).
        out += code < 0x20 || code > 0x7e ? '\\u' + code.toString(16).toUpperCase().padStart(4, '0') : c;
    }
  }
  return out;
}

/**
 * Renders properties the way `Properties.store(writer, comment)` does: optional comment
 * lines, then a `#<date>` line, then `key=value` lines in map order.
 */
export function renderProperties(props: Map<string, string>, opts: { comments?: string[]; date?: Date } = {}): string {
  const lines = (opts.comments ?? []).map((c) => `#${c}`);
  lines.push(`#${javaDateString(opts.date ?? new Date())}`);
  for (const [k, v] of props) lines.push(`${escape(k, true)}=${escape(v, false)}`);
  return lines.join('\n') + '\n';
}

function unescape(s: string, where: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (c !== '\\') { out += c; continue; }
    const n = s.charAt(++i);
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesError(`${where}: malformed \\u escape "\\u${hex}"; use four hex digits`);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default: out += n; // Java drops the backslash before any other character
    }
  }
  return out;
}

/** Parses Java properties text (comments, continuations, `=`/`:`/whitespace separators, escapes). */
export function parseProperties(text: string, source = 'properties'): Map<string, string> {
  const props = new Map<string, string>();
  const raw = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < raw.length; i++) {
    let line = (raw[i] ?? '').replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const lineNo = i + 1;
    // A line ending in an odd number of backslashes continues on the next line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < raw.length) {
      line = line.slice(0, -1) + (raw[++i] ?? '').replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    while (k < line.length) {
      const c = line.charAt(k);
      if (c === '\\') { k += 2; continue; }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      k++;
    }
    const key = line.slice(0, k);
    let v = k;
    while (v < line.length && /[ \t\f]/.test(line.charAt(v))) v++;
    if (v < line.length && (line.charAt(v) === '=' || line.charAt(v) === ':')) v++;
    while (v < line.length && /[ \t\f]/.test(line.charAt(v))) v++;
    const where = `${source} line ${lineNo}`;
    props.set(unescape(key, where), unescape(line.slice(v), where));
  }
  return props;
}

/** `hoodie.table.checksum`: CRC-32 of UTF-8 "db.table" as an unsigned decimal (HoodieTableConfig). */
export function tableChecksum(database: string, tableName: string): string {
  return String(crc32(Buffer.from(`${database}.${tableName}`, 'utf8')) >>> 0);
}

export const KEYGEN_SIMPLE = 'org.apache.hudi.keygen.SimpleKeyGenerator';
export const KEYGEN_COMPLEX = 'org.apache.hudi.keygen.ComplexKeyGenerator';
export const KEYGEN_NONPARTITIONED = 'org.apache.hudi.keygen.NonpartitionedKeyGenerator';
export const DEFAULT_PAYLOAD_CLASS = 'org.apache.hudi.common.model.DefaultHoodieRecordPayload';
/** Hudi's default (event-time) record merger strategy id. */
export const DEFAULT_MERGER_STRATEGY = 'eeb8d96f-b1e4-49fd-bbf8-28ac514178e5';

export interface TablePropertiesConfig {
  tableName: string;
  database: string;
  recordKeyFields: string[];
  partitionFields: string[];
  orderingField: string;
  /** Avro schema JSON without meta fields; readers use it only before the first commit. */
  createSchema?: string;
}

export function keyGeneratorClass(recordKeyFields: string[], partitionFields: string[]): string {
  if (partitionFields.length === 0) return KEYGEN_NONPARTITIONED;
  return recordKeyFields.length > 1 || partitionFields.length > 1 ? KEYGEN_COMPLEX : KEYGEN_SIMPLE;
}

/**
 * The `hoodie.properties` of cdc-lake's writer profile (table v6, MOR, layout 1, UTC,
 * event-time ordering). The checksum is the last entry, as Java writes it.
 */
export function buildTableProperties(cfg: TablePropertiesConfig): Map<string, string> {
  if (cfg.recordKeyFields.length === 0) throw new PropertiesError(`table ${cfg.tableName}: recordKeyFields is empty; name at least one key field`);
  if (cfg.orderingField === '') throw new PropertiesError(`table ${cfg.tableName}: orderingField is empty; Hudi needs a precombine field`);
  const p = new Map<string, string>();
  p.set('hoodie.table.name', cfg.tableName);
  p.set('hoodie.database.name', cfg.database);
  p.set('hoodie.table.type', 'MERGE_ON_READ');
  p.set('hoodie.table.version', '6');
  p.set('hoodie.timeline.layout.version', '1');
  p.set('hoodie.table.timeline.timezone', 'UTC');
  p.set('hoodie.table.base.file.format', 'PARQUET');
  p.set('hoodie.populate.meta.fields', 'true');
  p.set('hoodie.compaction.payload.class', DEFAULT_PAYLOAD_CLASS);
  p.set('hoodie.compaction.record.merger.strategy', DEFAULT_MERGER_STRATEGY);
  p.set('hoodie.table.precombine.field', cfg.orderingField);
  p.set('hoodie.table.recordkey.fields', cfg.recordKeyFields.join(','));
  if (cfg.partitionFields.length > 0) p.set('hoodie.table.partition.fields', cfg.partitionFields.join(','));
  p.set('hoodie.table.keygenerator.class', keyGeneratorClass(cfg.recordKeyFields, cfg.partitionFields));
  p.set('hoodie.datasource.write.hive_style_partitioning', 'true');
  p.set('hoodie.datasource.write.partitionpath.urlencode', 'false');
  p.set('hoodie.datasource.write.drop.partition.columns', 'false');
  p.set('hoodie.archivelog.folder', 'archived');
  if (cfg.createSchema !== undefined) p.set('hoodie.table.create.schema', cfg.createSchema);
  p.set('hoodie.table.checksum', tableChecksum(cfg.database, cfg.tableName));
  return p;
}

/** Renders `hoodie.properties` with Java's two header lines. */
export function renderTableProperties(props: Map<string, string>, date: Date = new Date()): string {
  return renderProperties(props, { comments: [`Properties saved on ${date.toISOString()}`], date });
}
