import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { bucketOf } from '../../../src/table/record-key.js';

// Java: (List.of(values...).hashCode() & Integer.MAX_VALUE) % numBuckets, with List.hashCode = fold(1, h -> 31 * h + e.hashCode()).
test('bucketOf routes keys as Hudi BucketIdentifier does (List<String>.hashCode over the key values)', () => {
  // "1".hashCode() = 49 → list hash 31 + 49 = 80
  assert.equal(bucketOf('1', ['id'], 4), 80 % 4);
  assert.equal(bucketOf('1', ['id'], 7), 80 % 7);
  // "abc".hashCode() = 96354 → 96385
  assert.equal(bucketOf('abc', ['id'], 7), 96385 % 7);
  // "polygenelubricants".hashCode() = Integer.MIN_VALUE → 31 + MIN_VALUE = -2147483617, & MAX_VALUE = 31
  assert.equal(bucketOf('polygenelubricants', ['id'], 16), 31 % 16);
  // Two fields: the key "id:1,name:x" hashes the values ["1", "x"]: 31 * (31 + 49) + 120 = 2600
  assert.equal(bucketOf('id:1,name:x', ['id', 'name'], 7), 2600 % 7);
});
