import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { decideMaintenance, deltaCommitsSinceCompaction, groupSizes } from '../../../src/table/maintenance-policy.js';
import type { TimelineInstant } from '../../../src/table/timeline.js';

const dc = (t: string): TimelineInstant => ({ timestamp: t, action: 'deltacommit', state: 'completed' });
const comp = (t: string): TimelineInstant => ({ timestamp: t, action: 'commit', state: 'completed', compaction: true });
const cl = (t: string): TimelineInstant => ({ timestamp: t, action: 'clean', state: 'completed' });
const g = (fileId: string, baseBytes: number, logBytes: number) => ({ partition: '', fileId, baseBytes, logBytes });
const policy = { everyDeltaCommits: 3, logToBaseRatio: 0.5, retainCommits: 4 };

test('deltacommits are counted since the last compaction', () => {
  assert.equal(deltaCommitsSinceCompaction([dc('1'), dc('2'), comp('3'), dc('4')]), 1);
  assert.equal(deltaCommitsSinceCompaction([dc('1'), dc('2')]), 2);
});

test('compaction by count compacts every group with logs; by ratio only the heavy ones', () => {
  const groups = [g('a', 100, 10), g('b', 100, 80), g('c', 100, 0)];
  const byCount = decideMaintenance([dc('1'), dc('2'), dc('3')], groups, policy);
  assert.equal(byCount.compact, true);
  assert.deepEqual(byCount.compactGroups.map((x) => x.fileId), ['a', 'b']);
  const byRatio = decideMaintenance([dc('1'), comp('2'), dc('3')], groups, policy);
  assert.deepEqual(byRatio.compactGroups.map((x) => x.fileId), ['b']);
  assert.equal(decideMaintenance([dc('1')], [g('a', 100, 10)], policy).compact, false);
  assert.equal(decideMaintenance([dc('1'), dc('2'), dc('3')], [g('a', 100, 0)], policy).compact, false, 'nothing to compact');
});

test('cleaning once more than retainCommits write instants exist and something was written since the last clean', () => {
  const five = [dc('1'), dc('2'), dc('3'), dc('4'), dc('5')];
  assert.equal(decideMaintenance(five.slice(0, 4), [], policy).clean, false);
  assert.equal(decideMaintenance(five, [], policy).clean, true);
  assert.equal(decideMaintenance([...five, cl('6')], [], policy).clean, false);
  assert.equal(decideMaintenance([...five, cl('6'), dc('7')], [], policy).clean, true);
});

test('pending instants block maintenance until recovery', () => {
  const d = decideMaintenance([dc('1'), dc('2'), dc('3'), { timestamp: '4', action: 'deltacommit', state: 'inflight' }], [g('a', 1, 100)], policy);
  assert.equal(d.compact || d.clean, false);
  assert.match(d.reasons.join(), /recover/);
});

test('groupSizes sums log sizes per slice', () => {
  const sizes = groupSizes([{ partition: 'p', fileId: 'f', baseInstant: '1', base: { path: 'x', name: 'x', fileId: 'f', instant: '1', size: 7 }, logs: [{ path: 'l', name: 'l', size: 3, fileId: 'f', baseInstant: '1', version: 1, writeToken: '0-0-0' }, { path: 'm', name: 'm', size: 4, fileId: 'f', baseInstant: '1', version: 2, writeToken: '0-0-0' }] }]);
  assert.deepEqual(sizes, [{ partition: 'p', fileId: 'f', baseBytes: 7, logBytes: 7 }]);
});
