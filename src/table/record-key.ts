import type { Row, Value } from './schema.js';

/**
 * Hudi record keys and the bucket index, as Hudi's key generators and
 * `BucketIdentifier` compute them, so a Java engine would route a key to the
 * same file group we did.
 */

const NULL_KEY = '__null__';
const EMPTY_KEY = '__empty__';

function keyPart(value: Value | undefined): string {
  if (value === null || value === undefined) return NULL_KEY;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text === '' ? EMPTY_KEY : text;
}

/**
 * The order of record keys wherever cdc-lake orders them (base files, merges, query output):
 * UTF-16 code units, as JS `<` compares strings.
 */
export function compareKeys(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether the keys are already in `compareKeys` order (equal neighbours allowed). */
export function inKeyOrder(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false;
  return true;
}

/** SimpleKeyGenerator form for one field (`value`), ComplexKeyGenerator form for several (`f1:v1,f2:v2`). */
export function recordKey(row: Row, fields: readonly string[]): string {
  if (fields.length === 1) return keyPart(row[fields[0] as string]);
  return fields.map((f) => `${f}:${keyPart(row[f])}`).join(',');
}

/** The key field values back from a record key (inverse of `recordKey`, as strings). */
export function recordKeyParts(key: string, fields: readonly string[]): string[] {
  if (fields.length === 1) return [key];
  return key.split(',').map((part, i) => {
    const prefix = `${fields[i]}:`;
    return part.startsWith(prefix) ? part.slice(prefix.length) : part;
  });
}

/** Java's `String.hashCode` (UTF-16 code units, 32-bit overflow). */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** `BucketIdentifier.getBucketId`: `List<String>.hashCode() & Integer.MAX_VALUE % numBuckets` over the key values. */
export function bucketOf(key: string, fields: readonly string[], numBuckets: number): number {
  let h = 1;
  // One key field (the usual case): the one-element list's hash without making the list.
  if (fields.length === 1) h = (31 + javaStringHash(key)) | 0;
  else for (const part of recordKeyParts(key, fields)) h = (Math.imul(31, h) + javaStringHash(part)) | 0;
  return (h & 0x7fffffff) % numBuckets;
}

/** Bucket-index file ids start with the zero-padded bucket number, as Hudi's bucket index names them. */
export function bucketFileIdPrefix(bucket: number): string {
  return String(bucket).padStart(8, '0');
}

export function bucketOfFileId(fileId: string): number | undefined {
  const m = /^(\d{8})-/.exec(fileId);
  return m ? Number(m[1]) : undefined;
}
