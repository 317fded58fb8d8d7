import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assignWholeTopics } from '../../../src/source/assignor.js';

test('every topic goes whole to one subscribed member, load balanced by partitions', () => {
  const plan = assignWholeTopics(
    new Map([
      ['m2', {}],
      ['m1', {}],
      ['m3', { topics: ['small'] }],
    ]),
    new Map([
      ['big', 8],
      ['mid', 4],
      ['small', 1],
      ['other', 3],
    ]),
  );
  assert.deepEqual(plan.get('m1'), new Map([['big', [0, 1, 2, 3, 4, 5, 6, 7]]]));
  assert.deepEqual(plan.get('m2'), new Map([['mid', [0, 1, 2, 3]], ['other', [0, 1, 2]]]));
  assert.deepEqual(plan.get('m3'), new Map([['small', [0]]]));
});

test('property: each partition assigned exactly once, a topic never split', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 5 }), fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.integer({ min: 1, max: 12 })), (ids, topics) => {
      const plan = assignWholeTopics(new Map(ids.map((id) => [id, {}])), new Map(Object.entries(topics)));
      const seen = new Map<string, string>();
      for (const [m, byTopic] of plan)
        for (const [t, parts] of byTopic) {
          assert.equal(seen.has(t), false, `topic ${t} split`);
          seen.set(t, m);
          assert.deepEqual(parts, Array.from({ length: topics[t] as number }, (_, i) => i));
        }
      assert.equal(seen.size, Object.keys(topics).length);
    }),
  );
});
