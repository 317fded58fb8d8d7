import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import fc from 'fast-check';
import {
  UNKNOWN_WRITE_TOKEN, baseFileName, compareLogFiles, logFileName, newFileId, parseBaseFileName, parseLogFileName, writeToken,
} from '../../../src/hudi/file-name.js';
import { allZips, dataLogFiles, fixtureTable } from './fixture-files.js';

test('every base and log file name in the fixtures parses and renders back', async () => {
  let bases = 0;
  let logs = 0;
  for (const zip of allZips()) {
    const t = await fixtureTable(zip);
    for (const f of t.files.filter((x) => x.endsWith('.parquet') && !x.startsWith('.hoodie/'))) {
      const b = parseBaseFileName(basename(f));
      assert.ok(b, `${zip}: ${f}`);
      assert.equal(baseFileName(b), basename(f));
      bases++;
    }
    for (const f of dataLogFiles(t)) {
      const l = parseLogFileName(basename(f));
      assert.ok(l, `${zip}: ${f}`);
      assert.equal(logFileName(l), basename(f));
      logs++;
    }
  }
  assert.ok(bases >= 15 && logs >= 10, `bases ${bases}, logs ${logs}`);
});

test('parsed fields', () => {
  assert.deepEqual(parseBaseFileName('a079bdb3-731c-4894-b855-abfcd6921007-0_0-182-253_20240418173550988.parquet'), {
    fileId: 'a079bdb3-731c-4894-b855-abfcd6921007-0', writeToken: '0-182-253', instant: '20240418173550988',
  });
  assert.deepEqual(parseLogFileName('.0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0_20250126040823628.log.2_1-0-1'), {
    fileId: '0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0', baseInstant: '20250126040823628', version: 2, writeToken: '1-0-1',
  });
  assert.equal(parseLogFileName('.f-0_20250126040823628.log.1_0-0-1.cdc')?.cdc, true);
});

test('rejects names that are not Hudi files', () => {
  for (const bad of [
    'a_b_c_20240418173550988.parquet', 'f-0_0-1-2_2024.parquet', 'f-0_0-1_20240418173550988.parquet', 'f-0_0-1-2_20240418173550988.orc',
    '.hoodie_partition_metadata', 'f-0_0-1-2_20240418173550988.parquet.marker.CREATE',
  ]) assert.equal(parseBaseFileName(bad), undefined, bad);
  for (const bad of [
    'f-0_20250126040823628.log.1_0-0-1', '.f-0_20250126040823628.log.0_0-0-1', '.f-0_20250126040823628.log.1', '.f_x_20250126040823628.log.1_0-0-1',
    '.f-0_20250126040823628.archive.1_0-0-1', '.f-0_20250126040823628.log.1_0-0',
  ]) assert.equal(parseLogFileName(bad), undefined, bad);
  assert.throws(() => baseFileName({ fileId: 'a_b', writeToken: '0-0-0', instant: '20250101000000000' }), /"a_b"/);
  assert.throws(() => logFileName({ fileId: 'a', baseInstant: '20250101000000000', version: 0, writeToken: '0-0-0' }), /version 0/);
});

test('new file ids and write tokens', () => {
  const id = newFileId();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-0$/);
  assert.notEqual(id, newFileId());
  assert.equal(writeToken({ partitionId: 0, stageId: 13, attemptId: 60 }), '0-13-60');
  assert.equal(UNKNOWN_WRITE_TOKEN, '1-0-1');
  assert.throws(() => writeToken({ partitionId: -1, stageId: 0, attemptId: 0 }));
  const name = baseFileName({ fileId: id, writeToken: '0-0-0', instant: '20250101000000000' });
  assert.deepEqual(parseBaseFileName(name), { fileId: id, writeToken: '0-0-0', instant: '20250101000000000' });
});

test('log file order within a slice: version, then write token', () => {
  const names = [
    '.f-0_20250126040823628.log.3_0-13-9',
    '.f-0_20250126040823628.log.1_0-33-43',
    '.f-0_20250126040823628.log.2_1-0-1',
    '.f-0_20250126040823628.log.10_0-0-1',
    '.f-0_20250126040823628.log.2_0-0-1',
    '.f-0_20250126040823628.log.2_0-10-1',
    '.f-0_20250126040823628.log.2_0-9-1',
  ];
  const sorted = names.map((n) => parseLogFileName(n)!).sort(compareLogFiles).map((l) => logFileName(l));
  assert.deepEqual(sorted, [
    '.f-0_20250126040823628.log.1_0-33-43',
    '.f-0_20250126040823628.log.2_0-0-1',
    '.f-0_20250126040823628.log.2_0-9-1',
    '.f-0_20250126040823628.log.2_0-10-1',
    '.f-0_20250126040823628.log.2_1-0-1',
    '.f-0_20250126040823628.log.3_0-13-9',
    '.f-0_20250126040823628.log.10_0-0-1',
  ]);
});

test('log name round trip (property)', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/), fc.stringMatching(/^\d{17}$/), fc.integer({ min: 1, max: 1e9 }),
      fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(1000)),
      (fileId, baseInstant, version, [a, b, c]) => {
        const l = { fileId, baseInstant, version, writeToken: `${a}-${b}-${c}` };
        assert.deepEqual(parseLogFileName(logFileName(l)), l);
      },
    ),
  );
});
