import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kraftClusterId } from '../../support/kafka-broker.js';

test('KRaft cluster ids are 22 base64url characters and never start with "-" (the storage tool would read an option)', () => {
  // One in 64 random ids starts with '-': 2,000 draws meet one with near certainty.
  for (let i = 0; i < 2000; i++) {
    const id = kraftClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/, id);
  }
});
