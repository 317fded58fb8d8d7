import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteError, Router, tableIdentity } from '../../../src/pipeline/router.js';
import { ConfigSchema } from '../../../src/config/schema.js';

test('identity: folder, Hudi name, database; case kept; odd characters become _', () => {
  assert.deepEqual(tableIdentity('Inventory.Order-Items'), {
    id: 'Inventory.Order_Items',
    schema: 'Inventory',
    table: 'Order_Items',
    path: 'Inventory/Order_Items',
    hudiTableName: 'Inventory_Order_Items',
    database: 'Inventory',
  });
  assert.equal(tableIdentity('db.a.b').table, 'a_b');
});

test('path escapes and malformed names are rejected with the name in the message', () => {
  for (const bad of ['../etc.passwd', 'a/b.c', 'a.b/../c', 'a\\b.c', 'noschema', '.t', 's.', 's...t']) {
    assert.throws(() => tableIdentity(bad), (e: unknown) => e instanceof RouteError && e.message.includes(JSON.stringify(bad)), bad);
  }
});

test('router merges per-table overrides over defaults, keyed by the sanitised id', () => {
  const config = ConfigSchema.parse({
    lake: { uri: '/tmp/lake' },
    tables: {
      defaults: { buckets: 8 },
      overrides: { 'inventory.orders': { buckets: 2, partitionField: 'region', compaction: { everyDeltaCommits: 3 } } },
    },
  });
  const r = new Router(config);
  const o = r.route('inventory.orders');
  assert.equal(o.options.buckets, 2);
  assert.equal(o.options.partitionField, 'region');
  assert.equal(o.options.compaction.everyDeltaCommits, 3);
  assert.equal(r.route('inventory.customers').options.buckets, 8);
  assert.equal(r.route('inventory.orders'), o, 'routes are cached');
  assert.equal(r.routes().length, 2);
});
