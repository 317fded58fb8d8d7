import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig, ConfigError, tableOptions } from '../../../src/config/index.js';
import { tempDirSync } from '../../support/temp.js';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

function writeYaml(text: string): string {
  const dir = tempDirSync('cdc-cfg-');
  const p = join(dir, 'config.yaml');
  writeFileSync(p, text);
  return p;
}

test('defaults fill every section from a minimal file', () => {
  const c = loadConfig(writeYaml('lake:\n  uri: /tmp/lake\n'), {});
  assert.equal(c.lake.uri, '/tmp/lake');
  assert.equal(c.kafka, undefined);
  assert.equal(c.tables.defaults.buckets, 4);
  assert.equal(c.tables.defaults.compaction.everyDeltaCommits, 10);
  assert.equal(c.tables.defaults.retention.commits, 20);
  assert.deepEqual(c.buffer, { maxRows: 50000, maxBytes: 64 * 1024 * 1024, maxAgeMs: 5000, memoryBudgetBytes: 256 * 1024 * 1024, keyIndexBytes: 256 * 1024 * 1024 });
  assert.deepEqual(c.server, { host: '0.0.0.0', port: 8080, stallThresholdMs: 300000 });
  assert.equal(c.shutdown.deadlineMs, 30000);
  assert.equal(c.log.level, 'info');
  assert.equal(c.errors.tolerance, 'all');
  assert.equal(c.transactions.align, true);
  assert.equal(c.source.format, 'auto');
  assert.equal(c.source.keyless, 'reject');
  assert.equal(c.source.binaryHandling, 'bytes');
  assert.equal(c.source.fastPath, true);
});

test('kafka defaults and topic pattern', () => {
  const c = parseConfig({ lake: { uri: 'file:///x' }, kafka: { brokers: ['k:9092'], topicPattern: '^db\\.public\\..+' } }, {});
  assert.equal(c.kafka?.clientId, 'cdc-lake');
  assert.equal(c.kafka?.groupId, 'cdc-lake');
  assert.deepEqual(c.kafka?.topics, []);
});

test('env overrides: double underscore nests, lists split on commas, numbers and booleans coerced', () => {
  const env = {
    CDC_LAKE_LAKE__URI: 's3://b/p',
    CDC_LAKE_KAFKA__BROKERS: 'a:9092,b:9092',
    CDC_LAKE_KAFKA__TOPICS: 'x.public.t',
    CDC_LAKE_BUFFER__MAX_ROWS: '5000',
    CDC_LAKE_TRANSACTIONS__ALIGN: 'true',
    CDC_LAKE_LAKE__S3__PATH_STYLE: 'true',
    CDC_LAKE_KAFKA__SASL: '{mechanism: plain, username: u, password: p}',
    CDC_LAKE_SERVER__PORT: '9001',
    CDC_LAKE_SOURCE__FAST_PATH: 'false',
    OTHER: 'ignored',
    CDC_LAKE_TEST_BUCKET: 'not config: no double underscore',
    CDC_LAKE_STACK_ENV: '/tmp/x',
  };
  const c = loadConfig(writeYaml('lake:\n  uri: /tmp/lake\nbuffer:\n  maxRows: 10\n'), env);
  assert.equal(c.lake.uri, 's3://b/p');
  assert.deepEqual(c.kafka?.brokers, ['a:9092', 'b:9092']);
  assert.deepEqual(c.kafka?.topics, ['x.public.t']);
  assert.equal(c.buffer.maxRows, 5000);
  assert.equal(c.transactions.align, true);
  assert.equal(c.lake.s3.pathStyle, true);
  assert.deepEqual(c.kafka?.sasl, { mechanism: 'plain', username: 'u', password: 'p' });
  assert.equal(c.server.port, 9001);
  assert.equal(c.source.fastPath, false);
});

test('env overrides with flow text: per-table overrides and keyless columns', () => {
  const c = loadConfig(undefined, {
    CDC_LAKE_LAKE__URI: '/l',
    CDC_LAKE_TABLES__OVERRIDES: '{public.orders: {buckets: 8}}',
    CDC_LAKE_SOURCE__KEYLESS: '{columns: [a, b]}',
    CDC_LAKE_LOG__LEVEL: 'debug',
  });
  assert.equal(tableOptions(c, 'public.orders').buckets, 8);
  assert.deepEqual(c.source.keyless, { columns: ['a', 'b'] });
  assert.equal(c.log.level, 'debug');
});

test('config from the environment only', () => {
  const c = loadConfig(undefined, { CDC_LAKE_LAKE__URI: '/data/lake' });
  assert.equal(c.lake.uri, '/data/lake');
});

test('AWS environment supplies S3 endpoint and region for s3:// lakes', () => {
  const c = parseConfig({ lake: { uri: 's3://bucket/prefix' } }, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000', AWS_REGION: 'eu-west-1' });
  assert.equal(c.lake.s3.endpoint, 'http://127.0.0.1:5000');
  assert.equal(c.lake.s3.region, 'eu-west-1');
  const own = parseConfig({ lake: { uri: 's3://bucket', s3: { region: 'us-east-1' } } }, { AWS_REGION: 'eu-west-1' });
  assert.equal(own.lake.s3.region, 'us-east-1');
});

test('${VAR} interpolation, and an unset variable names the field', () => {
  const c = parseConfig({ lake: { uri: '${LAKE}/x' } }, { LAKE: '/data' });
  assert.equal(c.lake.uri, '/data/x');
  const e = errorOf(() => parseConfig({ lake: { uri: '${NOPE}' } }, {}));
  assert.match(e.message, /^config error at lake\.uri: environment variable NOPE is not set/);
});

test('per-table overrides merge over defaults', () => {
  const c = parseConfig(
    {
      lake: { uri: '/l' },
      tables: { defaults: { buckets: 8 }, overrides: { 'public.orders': { partitionField: 'day', compaction: { everyDeltaCommits: 3 } } } },
    },
    {},
  );
  const o = tableOptions(c, 'public.orders');
  assert.equal(o.buckets, 8);
  assert.equal(o.partitionField, 'day');
  assert.equal(o.compaction.everyDeltaCommits, 3);
  assert.equal(o.retention.commits, 20);
  assert.deepEqual(tableOptions(c, 'public.other'), c.tables.defaults);
});

/** Each invalid input and the field path its error must name. */
const invalid: Array<[string, Record<string, unknown>, string, RegExp?]> = [
  ['missing lake', {}, 'lake', /required/],
  ['missing lake.uri', { lake: {} }, 'lake.uri', /required/],
  ['bad lake scheme', { lake: { uri: 'http://x/y' } }, 'lake.uri', /s3:\/\/bucket/],
  ['empty brokers', { lake: { uri: '/l' }, kafka: { brokers: [], topics: ['t'] } }, 'kafka.brokers', /non-empty list of host:port/],
  ['broker without port', { lake: { uri: '/l' }, kafka: { brokers: ['kafka'], topics: ['t'] } }, 'kafka.brokers.0', /host:port/],
  ['brokers not a list', { lake: { uri: '/l' }, kafka: { brokers: 'k:1', topics: ['t'] } }, 'kafka.brokers', /non-empty list/],
  ['no topics', { lake: { uri: '/l' }, kafka: { brokers: ['k:1'] } }, 'kafka.topics', /topicPattern/],
  ['bad regex', { lake: { uri: '/l' }, kafka: { brokers: ['k:1'], topicPattern: '(' } }, 'kafka.topicPattern', /regular expression/],
  ['bad sasl mechanism', { lake: { uri: '/l' }, kafka: { brokers: ['k:1'], topics: ['t'], sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } } }, 'kafka.sasl.mechanism', /"plain"/],
  ['sasl without password', { lake: { uri: '/l' }, kafka: { brokers: ['k:1'], topics: ['t'], sasl: { mechanism: 'plain', username: 'u' } } }, 'kafka.sasl.password', /required/],
  ['tls flag type', { lake: { uri: '/l' }, kafka: { brokers: ['k:1'], topics: ['t'], tls: { rejectUnauthorized: 'yes' } } }, 'kafka.tls.rejectUnauthorized', /boolean/],
  ['bad format', { lake: { uri: '/l' }, source: { format: 'xml' } }, 'source.format', /"auto", "json", "avro"/],
  ['avro without a registry', { lake: { uri: '/l' }, source: { format: 'avro' } }, 'source.schemaRegistry', /format avro needs a schema registry/],
  ['bad registry url', { lake: { uri: '/l' }, source: { schemaRegistry: { url: 'nope' } } }, 'source.schemaRegistry.url', /URL/],
  ['bad keyless', { lake: { uri: '/l' }, source: { keyless: 'first' } }, 'source.keyless'],
  ['bad binary handling', { lake: { uri: '/l' }, source: { binaryHandling: 'utf8' } }, 'source.binaryHandling', /"hex"/],
  ['zero buckets', { lake: { uri: '/l' }, tables: { defaults: { buckets: 0 } } }, 'tables.defaults.buckets', />=1/],
  ['fractional compaction', { lake: { uri: '/l' }, tables: { defaults: { compaction: { everyDeltaCommits: 1.5 } } } }, 'tables.defaults.compaction.everyDeltaCommits', /integer/],
  ['bad override key', { lake: { uri: '/l' }, tables: { overrides: { orders: {} } } }, 'tables.overrides.orders', /<schema>\.<table>/],
  ['bad override value', { lake: { uri: '/l' }, tables: { overrides: { 'public.orders': { buckets: -1 } } } }, 'tables.overrides.public.orders.buckets'],
  ['retention zero', { lake: { uri: '/l' }, tables: { defaults: { retention: { commits: 0 } } } }, 'tables.defaults.retention.commits'],
  ['buffer rows text', { lake: { uri: '/l' }, buffer: { maxRows: 'many' } }, 'buffer.maxRows', /number/],
  ['dead letter table type', { lake: { uri: '/l' }, deadLetters: { table: 'yes' } }, 'deadLetters.table', /boolean/],
  ['tolerance', { lake: { uri: '/l' }, errors: { tolerance: 'some' } }, 'errors.tolerance', /"all", "none"/],
  ['align type', { lake: { uri: '/l' }, transactions: { align: 1 } }, 'transactions.align', /boolean/],
  ['port range', { lake: { uri: '/l' }, server: { port: 70000 } }, 'server.port', /65535/],
  ['log level', { lake: { uri: '/l' }, log: { level: 'loud' } }, 'log.level', /"debug"/],
  ['shutdown deadline', { lake: { uri: '/l' }, shutdown: { deadlineMs: 'soon' } }, 'shutdown.deadlineMs'],
  ['unknown top-level key', { lake: { uri: '/l' }, kafak: {} }, 'kafak', /unknown key/],
  ['unknown nested key', { lake: { uri: '/l' }, buffer: { maxRow: 1 } }, 'buffer.maxRow', /unknown key/],
];

for (const [name, input, path, pattern] of invalid) {
  test(`validation error names its field: ${name}`, () => {
    const e = errorOf(() => parseConfig(input, {}));
    const lines = e.message.split('\n');
    const line = lines.find((l) => l.startsWith(`config error at ${path}: `));
    assert.ok(line, `no line for ${path} in:\n${e.message}`);
    if (pattern) assert.match(line, pattern);
    assert.ok(e.problems.some((p) => p.path === path));
  });
}

test('several problems give one line each', () => {
  const e = errorOf(() => parseConfig({ lake: { uri: '/l' }, buffer: { maxRows: 0, maxAgeMs: -1 } }, {}));
  assert.equal(e.message.split('\n').length, 2);
  assert.equal(e.problems.length, 2);
});

test('unknown env variable names the variable', () => {
  const e = errorOf(() => loadConfig(undefined, { CDC_LAKE_LAKE__URI: '/l', CDC_LAKE_BUFER__MAX_ROWS: '1' }));
  assert.match(e.message, /config error at bufer: unknown setting from environment variable CDC_LAKE_BUFER__MAX_ROWS/);
});

test('env value of the wrong type is reported at its field', () => {
  const e = errorOf(() => loadConfig(undefined, { CDC_LAKE_LAKE__URI: '/l', CDC_LAKE_BUFFER__MAX_ROWS: 'lots' }));
  assert.match(e.message, /^config error at buffer\.maxRows: expected number/);
});

test('YAML syntax error and missing file are ConfigErrors that say what to do', () => {
  const e = errorOf(() => loadConfig(writeYaml('lake: [\n'), {}));
  assert.match(e.message, /config error at \(yaml\): .*fix the YAML syntax/);
  const m = errorOf(() => loadConfig('/nonexistent/cdc.yaml', {}));
  assert.match(m.message, /cannot read \/nonexistent\/cdc\.yaml/);
});

test('every example config in config/ validates', () => {
  const dir = new URL('../../../config/', import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('local-stack.yaml') && files.includes('aws-s3.yaml'));
  const env = { KAFKA_PASSWORD: 'secret', SCHEMA_REGISTRY_PASSWORD: 'secret2' };
  for (const f of files) {
    const c = loadConfig(join(dir, f), env);
    assert.ok(c.lake.uri.length > 0, f);
    assert.ok(c.kafka, `${f} configures kafka`);
  }
});

test('kafka session timeout and heartbeat: defaults, and a heartbeat too close to the timeout is refused naming the field', () => {
  const base = { lake: { uri: 'file:///x' } };
  const c = parseConfig({ ...base, kafka: { brokers: ['k:9092'], topics: ['t'] } }, {});
  assert.equal(c.kafka?.sessionTimeoutMs, 15_000);
  assert.equal(c.kafka?.heartbeatIntervalMs, 3000);
  const ok = parseConfig({ ...base, kafka: { brokers: ['k:9092'], topics: ['t'], sessionTimeoutMs: 10_000, heartbeatIntervalMs: 2000 } }, {});
  assert.equal(ok.kafka?.sessionTimeoutMs, 10_000);
  const e = errorOf(() => parseConfig({ ...base, kafka: { brokers: ['k:9092'], topics: ['t'], sessionTimeoutMs: 6000, heartbeatIntervalMs: 2000 } }, {}));
  assert.match(e.message, /kafka\.heartbeatIntervalMs: expected heartbeatIntervalMs below sessionTimeoutMs \/ 3/);
  const env = parseConfig({ ...base, kafka: { brokers: ['k:9092'], topics: ['t'] } }, { CDC_LAKE_KAFKA__SESSION_TIMEOUT_MS: '20000' });
  assert.equal(env.kafka?.sessionTimeoutMs, 20_000);
});
