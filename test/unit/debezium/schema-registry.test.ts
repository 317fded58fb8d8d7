// The registry client's schema references (Confluent `references`, as Apicurio's converter
// registers Debezium's shared `Source` record): resolved into one self-contained schema,
// missing ones and cycles are errors naming subject and version, and ids and numbered
// subject versions are fetched once. A fake Confluent registry on loopback; then a fake
// Apicurio Registry (both of its APIs) for 8-byte ids.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import avro from 'avsc';
import { SourceSchema } from '../../../src/config/schema.js';
import { avroToConnect, avroType } from '../../../src/debezium/avro.js';
import { SchemaRegistryClient, SchemaRegistryError } from '../../../src/debezium/index.js';
import { registryApis, type SchemaSource } from '../../../src/debezium/schema-registry.js';
import { decodeOptions } from '../../../src/pipeline/decode-options.js';

const SOURCE = {
  type: 'record',
  name: 'Source',
  namespace: 'io.debezium.connector.postgresql',
  fields: [
    { name: 'db', type: 'string' },
    { name: 'lsn', type: ['null', 'long'], default: null },
  ],
};

/** An envelope whose `source` and `origin` both use the referenced Source by full name. */
function envelope(name: string): Record<string, unknown> {
  return {
    type: 'record',
    name,
    namespace: 'cdc.public.t',
    fields: [
      { name: 'after', type: ['null', { type: 'record', name: 'Value', fields: [{ name: 'id', type: 'int' }] }], default: null },
      { name: 'source', type: 'io.debezium.connector.postgresql.Source' },
      { name: 'origin', type: ['null', 'io.debezium.connector.postgresql.Source'], default: null },
      { name: 'op', type: 'string' },
    ],
  };
}

/** avsc decodes records into class instances; compare their plain data. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const ref = (subject: string, version: number | string, name = 'io.debezium.connector.postgresql.Source'): Record<string, unknown> => ({ name, subject, version });

/** Registry contents: path → response body (schema text + references). */
const routes: Record<string, { schema: unknown; references?: unknown[] }> = {
  '/schemas/ids/10': { schema: envelope('Envelope'), references: [ref('source-value', 1)] },
  '/schemas/ids/11': { schema: envelope('Other'), references: [ref('source-value', 1)] },
  '/schemas/ids/12': { schema: envelope('Missing'), references: [ref('no-such-subject', 3)] },
  '/schemas/ids/13': { schema: envelope('Cyclic'), references: [ref('cyc-a', 1)] },
  '/schemas/ids/14': {
    schema: { type: 'record', name: 'cdc.Nested', fields: [{ name: 'w', type: 'shared.Wrapper' }, { name: 'source', type: 'io.debezium.connector.postgresql.Source' }] },
    references: [ref('wrapper', 2, 'shared.Wrapper'), ref('source-value', 1)],
  },
  '/subjects/source-value/versions/1': { schema: SOURCE },
  '/subjects/cyc-a/versions/1': { schema: { type: 'record', name: 'io.debezium.connector.postgresql.Source', fields: [{ name: 'b', type: 'B' }] }, references: [ref('cyc-b', 1, 'B')] },
  '/subjects/cyc-b/versions/1': { schema: { type: 'record', name: 'B', fields: [{ name: 'a', type: 'io.debezium.connector.postgresql.Source' }] }, references: [ref('cyc-a', 1)] },
  // A reference whose own schema references Source (two levels).
  '/subjects/wrapper/versions/2': { schema: { type: 'record', name: 'Wrapper', namespace: 'shared', fields: [{ name: 'inner', type: 'io.debezium.connector.postgresql.Source' }] }, references: [ref('source-value', 1)] },
};

describe('schema registry client: references', () => {
  let url = '';
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/\?.*$/, '');
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = routes[path];
    if (!body) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error_code":40401,"message":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: JSON.stringify(body.schema), references: body.references }));
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => hits.clear());

  const client = (): SchemaRegistryClient => new SchemaRegistryClient({ url, retries: 0 });

  it('inlines the referenced Source record into one self-contained schema', async () => {
    const text = await client().schemaById(10);
    const schema = JSON.parse(text) as { fields: { name: string; type: unknown }[] };
    const byName = Object.fromEntries(schema.fields.map((f) => [f.name, f.type]));
    // First use carries the definition, the later use stays a name (Avro's own rule).
    assert.deepEqual(byName['source'], SOURCE);
    assert.deepEqual(byName['origin'], ['null', 'io.debezium.connector.postgresql.Source']);
    // avsc parses it without any registry of outside names, and it round-trips a value.
    const type = avroType(JSON.parse(text));
    const value = { after: { id: 7 }, source: { db: 'cdclake', lsn: 42 }, origin: null, op: 'c' };
    assert.deepEqual(plain(type.fromBuffer(type.toBuffer(value))), value);
    assert.throws(() => avro.Type.forSchema(envelope('Envelope') as avro.Schema), /Source/, 'without inlining, the name is undefined');
    // The Connect view sees the Source struct in both places.
    const connect = avroToConnect(JSON.parse(text));
    assert.deepEqual(connect.fields?.find((f) => f.field === 'origin')?.fields?.map((f) => f.field), ['db', 'lsn']);
  });

  it('resolves references of references (a Wrapper that uses Source), defining Source once', async () => {
    const schema = JSON.parse(await client().schemaById(14)) as { fields: { name: string; type: unknown }[] };
    // Source is defined inside the inlined Wrapper; the later field keeps the name.
    assert.equal(schema.fields[1]?.type, 'io.debezium.connector.postgresql.Source');
    const type = avroType(schema);
    assert.equal(type.name, 'cdc.Nested');
    const value = { w: { inner: { db: 'x', lsn: null } }, source: { db: 'y', lsn: 1 } };
    assert.deepEqual(plain(type.fromBuffer(type.toBuffer(value))), value);
    assert.equal(hits.get('/subjects/source-value/versions/1'), 1);
    assert.equal(hits.get('/subjects/wrapper/versions/2'), 1);
  });

  it('a missing reference is a not-found error naming the type, subject and version', async () => {
    const err = await client().schemaById(12).then(
      () => assert.fail('resolved a schema with a missing reference'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SchemaRegistryError, String(err));
    assert.equal(err.schemaId, 12);
    assert.ok(err.notFound, 'a missing reference is bad input (404), not an outage');
    assert.match(err.message, /io\.debezium\.connector\.postgresql\.Source \(subject no-such-subject, version 3\)/);
    assert.match(err.message, /schema id 12/);
  });

  it('a reference cycle is an error naming the chain, after fetching each subject once', async () => {
    await assert.rejects(client().schemaById(13), (e: unknown) => {
      assert.ok(e instanceof SchemaRegistryError);
      assert.match(e.message, /reference cycle cyc-a\/1 → cyc-b\/1 → cyc-a\/1/);
      return true;
    });
    assert.equal(hits.get('/subjects/cyc-a/versions/1'), 1);
    assert.equal(hits.get('/subjects/cyc-b/versions/1'), 1);
  });

  it('fetches each id once, and a shared referenced version once across ids', async () => {
    const c = client();
    const [a, b] = await Promise.all([c.schemaById(10), c.schemaById(10)]);
    assert.equal(a, b);
    assert.equal(await c.schemaById(10), a);
    await c.schemaById(11);
    assert.equal(hits.get('/schemas/ids/10'), 1, 'one fetch for id 10 (two concurrent, one later)');
    assert.equal(hits.get('/schemas/ids/11'), 1);
    assert.equal(hits.get('/subjects/source-value/versions/1'), 1, 'Source fetched once for both envelopes');
  });

  it('failures are not cached: a missing id is asked again next time', async () => {
    const c = client();
    await assert.rejects(c.schemaById(99), (e: unknown) => e instanceof SchemaRegistryError && e.notFound);
    await assert.rejects(c.schemaById(99), SchemaRegistryError);
    assert.equal(hits.get('/schemas/ids/99'), 2);
  });
});

describe("schema registry client: Apicurio's 8-byte ids", () => {
  const source = 'io.debezium.connector.postgresql.Source';
  /** Apicurio Registry's two APIs under one root: its own serves the schema text and its references apart. */
  const apicurio: Record<string, unknown> = {
    '/apis/registry/v2/ids/globalIds/5': envelope('Envelope'),
    '/apis/registry/v2/ids/globalIds/5/references': [{ groupId: null, artifactId: source, version: '1', name: source }],
    [`/apis/registry/v2/groups/default/artifacts/${source}/versions/1`]: SOURCE,
    [`/apis/registry/v2/groups/default/artifacts/${source}/versions/1/references`]: [],
    '/apis/registry/v2/ids/globalIds/6': envelope('Missing'),
    '/apis/registry/v2/ids/globalIds/6/references': [{ groupId: 'shared', artifactId: 'gone', version: '2', name: source }],
    '/apis/registry/v2/ids/contentIds/5': { type: 'record', name: 'ByContent', fields: [] },
    '/apis/registry/v2/ids/contentIds/5/references': [],
    '/apis/ccompat/v7/schemas/ids/5': { schema: JSON.stringify({ type: 'record', name: 'Confluent5', fields: [] }) },
  };
  let root = '';
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    hits.push(path);
    const body = apicurio[path];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error_code":404,"message":"No artifact"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());
  beforeEach(() => (hits.length = 0));

  const nameOf = async (c: SchemaRegistryClient, id: number, idBytes: 4 | 8): Promise<string> => (JSON.parse(await c.schemaById(id, idBytes)) as { name: string }).name;

  it('the Confluent-compatible address reaches both APIs: 8-byte ids as global ids, with their references inlined', async () => {
    const c = new SchemaRegistryClient({ url: `${root}/apis/ccompat/v7/`, retries: 0 });
    const text = await c.schemaById(5, 8);
    const schema = JSON.parse(text) as { name: string; fields: { name: string; type: unknown }[] };
    assert.equal(schema.name, 'Envelope');
    assert.deepEqual(schema.fields.find((f) => f.name === 'source')?.type, SOURCE);
    assert.equal(avroType(schema).name, 'cdc.public.t.Envelope');
    assert.equal(await nameOf(c, 5, 4), 'Confluent5', 'the same number in 4 bytes is a Confluent id');
    await c.schemaById(5, 8);
    assert.equal(hits.filter((h) => h === '/apis/registry/v2/ids/globalIds/5').length, 1, 'cached by id and width');
  });

  it("Apicurio's own address with contentId: 8-byte ids as content ids, 4-byte ids still through ccompat", async () => {
    const c = new SchemaRegistryClient({ url: `${root}/apis/registry/v2`, apicurioIdType: 'contentId', retries: 0 });
    assert.equal(await nameOf(c, 5, 8), 'ByContent');
    assert.equal(await nameOf(c, 5, 4), 'Confluent5');
  });

  it("the config's apicurioIdType reaches the daemon's client (decodeOptions)", async () => {
    const registry = (apicurioIdType?: string): SchemaSource => {
      const source = SourceSchema.parse({ format: 'avro', schemaRegistry: { url: `${root}/apis/registry/v2`, ...(apicurioIdType ? { apicurioIdType } : {}) } });
      return decodeOptions(source).registry as SchemaSource;
    };
    assert.equal(JSON.parse(await registry('contentId').schemaById(5, 8)).name, 'ByContent');
    assert.equal(JSON.parse(await registry().schemaById(5, 8)).name, 'Envelope', 'global ids by default');
    assert.throws(() => SourceSchema.parse({ schemaRegistry: { url: root, apicurioIdType: 'id' } }), /apicurioIdType/);
  });

  it('a missing referenced artifact is a not-found error naming it', async () => {
    const c = new SchemaRegistryClient({ url: `${root}/apis/registry/v2`, retries: 0 });
    await assert.rejects(c.schemaById(6, 8), (e: unknown) => {
      assert.ok(e instanceof SchemaRegistryError && e.notFound && e.permanent, String(e));
      assert.match(e.message, /referenced type io\.debezium\.connector\.postgresql\.Source \(artifact shared\/gone, version 2\) is not in the registry/);
      return true;
    });
  });

  it('a registry without Apicurio\'s API cannot resolve an 8-byte id: a permanent error saying what to set, and no request', async () => {
    const c = new SchemaRegistryClient({ url: root, retries: 0 });
    await assert.rejects(c.schemaById(5, 8), (e: unknown) => {
      assert.ok(e instanceof SchemaRegistryError && e.permanent && !e.notFound, String(e));
      assert.match(e.message, /an 8-byte schema id/);
      assert.match(e.message, /\/apis\/registry\/v2/);
      return true;
    });
    assert.deepEqual(hits, []);
  });

  it('registryApis: Apicurio addresses give both APIs; any other is a Confluent-compatible registry', () => {
    assert.deepEqual(registryApis('http://r:8081/apis/registry/v2/'), { confluent: 'http://r:8081/apis/ccompat/v7', apicurio: 'http://r:8081/apis/registry/v2' });
    assert.deepEqual(registryApis('https://r/x/apis/ccompat/v6'), { confluent: 'https://r/x/apis/ccompat/v6', apicurio: 'https://r/x/apis/registry/v2' });
    assert.deepEqual(registryApis('http://sr:8081'), { confluent: 'http://sr:8081', apicurio: undefined });
  });
});
