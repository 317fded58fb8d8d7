import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configJsonSchemaText, CONFIG_SCHEMA_PATH } from '../../../scripts/gen-config-schema.js';

test('schemas/config.schema.json is up to date with src/config/schema.ts', () => {
  const committed = readFileSync(CONFIG_SCHEMA_PATH, 'utf8');
  assert.equal(committed, configJsonSchemaText(), 'stale: run `node --import tsx scripts/gen-config-schema.ts` and commit the result');
});

test('JSON schema documents defaults and required keys', () => {
  const js = JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as {
    required: string[];
    properties: Record<string, { properties?: Record<string, { default?: unknown }> }>;
  };
  assert.deepEqual(js.required, ['lake']);
  assert.equal(js.properties['buffer']?.properties?.['maxRows']?.default, 50000);
  assert.equal(js.properties['server']?.properties?.['port']?.default, 8080);
});
