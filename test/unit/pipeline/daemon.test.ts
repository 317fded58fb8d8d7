import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/logging.js';
import { Daemon } from '../../../src/pipeline/daemon.js';
import { FileSource } from '../../../src/source/file.js';
import { tempDir } from '../../support/temp.js';

const scenario = resolve(import.meta.dirname, '../../../../shared/fixtures/debezium/scenario-two-tables.jsonl');

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  assert.ok(line, `${name} with ${labels} is reported`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

function total(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('the daemon reports what it did in /metrics: records in/out, commits, files, dead letters', async () => {
  const dir = await tempDir('cdc-lake-daemon-');
  const input = join(dir, 'in.jsonl');
  // The scenario plus one record that is not a Debezium envelope.
  await writeFile(input, (await readFile(scenario, 'utf8')) + '{"topic":"shop.public.orders","partition":0,"offset":99,"key":{"order_id":1},"value":{"nope":1}}\n');
  const config = parseConfig({ lake: { uri: join(dir, 'lake') }, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' } }, {});
  const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const daemon = new Daemon({ config, logger, source: new FileSource(input) });
  const summary = await daemon.start();
  assert.equal(summary.deadLetters, 1);
  const text = await daemon.metrics.registry.metrics();
  assert.equal(metric(text, 'cdc_lake_records_in_total', 'table="public.orders"'), 20);
  assert.equal(metric(text, 'cdc_lake_records_out_total', 'table="public.orders"') > 0, true);
  assert.equal(metric(text, 'cdc_lake_commits_total', 'table="public.customers",action="deltacommit"'), 1);
  assert.ok(metric(text, 'cdc_lake_files_written_total', 'table="public.orders",kind="base"') >= 1);
  assert.ok(metric(text, 'cdc_lake_bytes_written_total', 'table="public.orders",kind="base"') > 0);
  assert.equal(total(text, 'cdc_lake_decode_errors_total'), 1);
  assert.equal(total(text, 'cdc_lake_dead_letters_total'), 1);
  // Nothing stays buffered after the run (the gauge appears once a tick saw data, and then reads 0).
  assert.equal(total(text, 'cdc_lake_buffer_rows'), 0);
});
