import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TimelineAvroError, decodeTimelineAvro, decodeTimelineAvroFile, encodeTimelineAvro,
  type HoodieCleanMetadata, type HoodieCleanerPlan, type HoodieCompactionPlan, type HoodieRequestedReplaceMetadata, type HoodieRollbackMetadata, type HoodieRollbackPlan,
} from '../../../src/hudi/timeline-avro.js';
import { fixtureTable } from './fixture-files.js';

const ROLLBACK_ZIP = 'sample_table__mor__parquet__v6_nonpartitioned_rollback.zip';

test('decodes Java-written rollback plan and metadata', async () => {
  const t = await fixtureTable(ROLLBACK_ZIP);
  const meta = decodeTimelineAvro('HoodieRollbackMetadata', readFileSync(join(t.base, '.hoodie/20250126040936578.rollback')));
  assert.equal(meta.startRollbackTime, '20250126040936578');
  assert.deepEqual(meta.commitsRollback, ['20250126040826878']);
  assert.equal(meta.totalFilesDeleted, 1);
  assert.deepEqual(meta.instantsRollback, [{ commitTime: '20250126040826878', action: 'deltacommit' }]);
  const pm = meta.partitionMetadata['']!;
  assert.equal(pm.successDeleteFiles.length, 1);
  assert.match(pm.successDeleteFiles[0]!, /cd329d8f-0ce4-4654-84ab-2f769aae5034-0_1-33-44_20250126040826878\.parquet$/);
  assert.deepEqual(Object.values(pm.rollbackLogFiles ?? {}), [105]);
  assert.deepEqual(Object.values(pm.logFilesFromFailedCommit ?? {}), [11828]);

  const plan = decodeTimelineAvro('HoodieRollbackPlan', readFileSync(join(t.base, '.hoodie/20250126040936578.rollback.requested')));
  assert.deepEqual(plan.instantToRollback, { commitTime: '20250126040826878', action: 'deltacommit' });
  assert.equal(plan.RollbackRequests?.length, 2);
  assert.equal(plan.RollbackRequests?.[1]?.fileId, '0712b9f9-d2d5-4cae-bcf4-8fd7146af503-0');
  assert.equal(plan.version, 1);
});

test('our schema encodes the fixture records to the same datum bytes as Java', async () => {
  const t = await fixtureTable(ROLLBACK_ZIP);
  for (const [name, file] of [['HoodieRollbackMetadata', '20250126040936578.rollback'], ['HoodieRollbackPlan', '20250126040936578.rollback.requested']] as const) {
    const java = readFileSync(join(t.base, '.hoodie', file));
    const d = decodeTimelineAvroFile(java);
    // Same sync marker → whole files equal except the embedded schema text; compare the data block.
    const sync = java.subarray(java.length - 16);
    const ours = Buffer.from(encodeTimelineAvro(name, d.record as never, sync));
    const javaBlock = java.subarray(java.indexOf(sync) + 16);
    const ourBlock = ours.subarray(ours.indexOf(sync) + 16);
    assert.deepEqual(ourBlock, javaBlock, name);
  }
});

test('round trips for every timeline record we write', () => {
  const compaction: HoodieCompactionPlan = {
    operations: [{ baseInstantTime: '20250101000000000', deltaFilePaths: ['.f-0_20250101000000000.log.1_0-0-0'], dataFilePath: 'f-0_0-0-0_20250101000000000.parquet', fileId: 'f-0', partitionPath: 'dt=1', metrics: { TOTAL_LOG_FILES: 1 }, bootstrapFilePath: null }],
    extraMetadata: null, version: 2,
  };
  const rollbackPlan: HoodieRollbackPlan = { instantToRollback: { commitTime: '20250101000000001', action: 'deltacommit' }, RollbackRequests: [{ partitionPath: '', fileId: 'f-0', latestBaseInstant: '20250101000000000', filesToBeDeleted: ['a'], logBlocksToBeDeleted: null }], version: 1 };
  const rollback: HoodieRollbackMetadata = {
    startRollbackTime: '20250101000000002', timeTakenInMillis: 12, totalFilesDeleted: 1, commitsRollback: ['20250101000000001'],
    partitionMetadata: { '': { partitionPath: '', successDeleteFiles: ['a'], failedDeleteFiles: [], rollbackLogFiles: null, logFilesFromFailedCommit: { x: 3 } } },
    version: 1, instantsRollback: [{ commitTime: '20250101000000001', action: 'deltacommit' }],
  };
  const cleanerPlan: HoodieCleanerPlan = {
    earliestInstantToRetain: { timestamp: '20250101000000000', action: 'deltacommit', state: 'COMPLETED' }, policy: 'KEEP_LATEST_COMMITS',
    filesToBeDeletedPerPartition: {}, version: 2, filePathsToBeDeletedPerPartition: { 'dt=1': [{ filePath: 'dt=1/f-0_0-0-0_1.parquet', isBootstrapBaseFile: false }] }, partitionsToBeDeleted: [],
  };
  const clean: HoodieCleanMetadata = {
    policy: 'KEEP_LATEST_COMMITS', startCleanTime: '20250101000000003', timeTakenInMillis: 5, totalFilesDeleted: 1, earliestCommitToRetain: '20250101000000000', lastCompletedCommitTimestamp: '20250101000000002',
    partitionMetadata: { 'dt=1': { partitionPath: 'dt=1', policy: 'KEEP_LATEST_COMMITS', deletePathPatterns: ['f-0_0-0-0_1.parquet'], successDeleteFiles: ['f-0_0-0-0_1.parquet'], failedDeleteFiles: [], isPartitionDeleted: false } },
    version: 2, bootstrapPartitionMetadata: {},
  };
  const replace: HoodieRequestedReplaceMetadata = { operationType: 'INSERT_OVERWRITE_TABLE', clusteringPlan: null, extraMetadata: {}, version: 1 };
  assert.deepEqual(decodeTimelineAvro('HoodieCompactionPlan', encodeTimelineAvro('HoodieCompactionPlan', compaction)), compaction);
  assert.deepEqual(decodeTimelineAvro('HoodieRollbackPlan', encodeTimelineAvro('HoodieRollbackPlan', rollbackPlan)), rollbackPlan);
  assert.deepEqual(decodeTimelineAvro('HoodieRollbackMetadata', encodeTimelineAvro('HoodieRollbackMetadata', rollback)), rollback);
  assert.deepEqual(decodeTimelineAvro('HoodieCleanerPlan', encodeTimelineAvro('HoodieCleanerPlan', cleanerPlan)), cleanerPlan);
  assert.deepEqual(decodeTimelineAvro('HoodieCleanMetadata', encodeTimelineAvro('HoodieCleanMetadata', clean)), clean);
  assert.deepEqual(decodeTimelineAvro('HoodieRequestedReplaceMetadata', encodeTimelineAvro('HoodieRequestedReplaceMetadata', replace)), replace);
  const f = decodeTimelineAvroFile(encodeTimelineAvro('HoodieCleanMetadata', clean));
  assert.equal(f.recordName, 'org.apache.hudi.avro.model.HoodieCleanMetadata');
});

test('errors: wrong record, empty, garbage, invalid record', () => {
  const replace: HoodieRequestedReplaceMetadata = { operationType: 'INSERT_OVERWRITE_TABLE', clusteringPlan: null, extraMetadata: null, version: 1 };
  const bytes = encodeTimelineAvro('HoodieRequestedReplaceMetadata', replace);
  assert.throws(() => decodeTimelineAvro('HoodieCleanMetadata', bytes, 'x.clean'), /x\.clean: holds org\.apache\.hudi\.avro\.model\.HoodieRequestedReplaceMetadata/);
  assert.throws(() => decodeTimelineAvro('HoodieCleanMetadata', new Uint8Array(), 'y.clean'), /y\.clean: empty file/);
  assert.throws(() => decodeTimelineAvroFile(Buffer.from('{"a":1}'), 'z.rollback'), (e: unknown) => e instanceof TimelineAvroError && /z\.rollback: missing/.test(e.message));
  assert.throws(() => decodeTimelineAvroFile(bytes.subarray(0, bytes.length - 5), 't'), /sync marker|runs past/);
  assert.throws(() => encodeTimelineAvro('HoodieRollbackPlan', { instantToRollback: null, RollbackRequests: [{ partitionPath: 1 }], version: 1 } as never), /HoodieRollbackPlan: record does not match the schema at RollbackRequests/);
});
