import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CommitMetadataError, allWriteStats, emptyCommitMetadata, parseCommitMetadata, parseReplaceCommitMetadata, serializeCommitMetadata, writeStat,
} from '../../../src/hudi/commit-metadata.js';
import { parseBaseFileName, parseLogFileName } from '../../../src/hudi/file-name.js';
import { parseInstantFileName } from '../../../src/hudi/instant.js';
import { sharedFixturesDir } from '../../support/fixtures.js';
import { V6_ZIPS, fixtureTable } from './fixture-files.js';

test('standalone v6 commit metadata parses and re-serialises byte-identically (Jackson layout)', () => {
  const text = readFileSync(join(sharedFixturesDir(), 'commit_metadata/v6_commit.json'), 'utf8');
  const m = parseCommitMetadata(text, 'v6_commit.json');
  assert.equal(m.operationType, 'UPSERT');
  assert.equal(m.compacted, false);
  const [s] = m.partitionToWriteStats['']!;
  assert.equal(s!.fileId, 'a079bdb3-731c-4894-b855-abfcd6921007-0');
  assert.equal(s!.prevCommit, '20240418173550988');
  assert.equal(s!.numUpdateWrites, 1);
  assert.deepEqual(s!.runtimeStats, { totalScanTime: 0, totalUpsertTime: 105, totalCreateTime: 0 });
  assert.equal((JSON.parse(m.extraMetadata.schema!) as { name: string }).name, 'v6_nonpartitioned_record');
  assert.equal(serializeCommitMetadata(m), text);
});

test('every completed v6 fixture commit parses; stats name real files; JSON round trip', async () => {
  let commits = 0;
  for (const zip of V6_ZIPS) {
    const t = await fixtureTable(zip);
    for (const f of t.files.filter((x) => /^\.hoodie\/[^/]+$/.test(x))) {
      const i = parseInstantFileName(f.slice('.hoodie/'.length));
      if (!i || !['commit', 'deltacommit'].includes(i.action)) continue;
      const text = readFileSync(join(t.base, f), 'utf8');
      const m = parseCommitMetadata(text, f);
      if (i.state !== 'completed') continue; // inflight = workload profile with null paths
      commits++;
      assert.ok(m.extraMetadata.schema, `${zip} ${f} has a schema`);
      for (const s of allWriteStats(m)) {
        const file = s.path.split('/').at(-1)!;
        assert.ok(parseBaseFileName(file) || parseLogFileName(file), `${zip} ${f}: ${s.path}`);
        if (i.action === 'deltacommit' && parseLogFileName(file)) {
          assert.ok(s.baseFile && parseBaseFileName(s.baseFile), `${f}: delta stat names its base file`);
          assert.ok(s.logFiles?.includes(file), `${f}: logFiles contains the written log`);
          assert.equal(s.logVersion, parseLogFileName(file)!.version);
        }
      }
      assert.deepEqual(JSON.parse(serializeCommitMetadata(m)), JSON.parse(text), `${zip} ${f}`);
    }
  }
  assert.ok(commits >= 12, `checked ${commits} commits`);
});

test('inflight workload profile (null paths) parses', async () => {
  const t = await fixtureTable('quickstart_trips_table__mor__avro__v6_trips_8i3d.zip');
  const m = parseCommitMetadata(readFileSync(join(t.base, '.hoodie/20250618054714114.deltacommit.inflight'), 'utf8'));
  const [s] = m.partitionToWriteStats['city=san_francisco']!;
  assert.equal(s!.fileId, '');
  assert.equal(s!.path, '');
});

test('our delta commit: shape readers need', () => {
  const stat = writeStat({
    fileId: 'f-0', path: 'dt=1/.f-0_20250101000000000.log.2_0-0-0', partitionPath: 'dt=1', prevCommit: '20250101000000000',
    numWrites: 3, numUpdateWrites: 2, numDeletes: 1, logVersion: 2, logOffset: 0,
    baseFile: 'f-0_0-0-0_20250101000000000.parquet', logFiles: ['.f-0_20250101000000000.log.2_0-0-0'], fileSizeInBytes: 10, totalWriteBytes: 10,
  });
  const m = { partitionToWriteStats: { 'dt=1': [stat] }, compacted: false, extraMetadata: { schema: '{}', checkpoint: '{"a":1}' }, operationType: 'UPSERT' as const };
  const text = serializeCommitMetadata(m);
  assert.match(text, /^\{\n {2}"partitionToWriteStats" : \{\n {4}"dt=1" : \[ \{\n {6}"fileId" : "f-0",/);
  assert.match(text, /"logFiles" : \[ "\.f-0_20250101000000000\.log\.2_0-0-0" \]/);
  assert.match(text, /"prevCommit" : "20250101000000000"/);
  assert.deepEqual(parseCommitMetadata(text), m);
  assert.equal(writeStat({ fileId: 'x', path: 'x', partitionPath: '' }).prevCommit, 'null');
  assert.equal(serializeCommitMetadata(emptyCommitMetadata()), '{\n  "partitionToWriteStats" : { },\n  "compacted" : false,\n  "extraMetadata" : { },\n  "operationType" : "UNKNOWN"\n}');
  assert.deepEqual(parseCommitMetadata(''), emptyCommitMetadata());
});

test('replace commit metadata', () => {
  const m = { ...emptyCommitMetadata('INSERT_OVERWRITE_TABLE'), partitionToReplaceFileIds: { '': ['a-0', 'b-0'], 'dt=1': ['c-0'] } };
  const text = serializeCommitMetadata(m);
  assert.match(text, /"partitionToReplaceFileIds" : \{\n {4}"" : \[ "a-0", "b-0" \]/);
  assert.deepEqual(parseReplaceCommitMetadata(text), m);
});

test('errors name the file and field', () => {
  assert.throws(() => parseCommitMetadata('Obj\u0001', 'x.deltacommit'), (e: unknown) => e instanceof CommitMetadataError && /x\.deltacommit: not JSON/.test(e.message));
  assert.throws(() => parseCommitMetadata('{"partitionToWriteStats":{"p":[{"fileId":1}]}}', 'y.commit'), /y\.commit partition "p" stat 0: write stat field "fileId"/);
  assert.throws(() => parseCommitMetadata('{"extraMetadata":{"k":1}}', 'z'), /extraMetadata\["k"\]/);
});
