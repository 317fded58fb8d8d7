import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { decideMaintenance, deltaCommitsSinceCompaction, groupSizes } from '../../../src/table/maintenance-policy.js';
import type { TimelineInstant } from '../../../src/table/timeline.js';

const dc = (t: string): TimelineInstant => ({ timestamp: t, action: 'deltacommit', state: 'completed' });
const comp = (t: string): TimelineInstant => ({ timestamp: t, action: 'commit', state: 'completed', compaction: true });
const cl = (t: string): TimelineInstant => ({ timestamp: t, action: 'clean', state: 'completed' });
const g = (fileId: string, baseBytes: number, logBytes: number, logFiles = logBytes > 0 ? 1 : 0) => ({ partition: '', fileId, baseBytes, logBytes, logFiles });
const policy = { everyDeltaCommits: 3, logToBaseRatio: 0.5, maxBytesPerRun: 0, retainCommits: 4 };

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
  assert.deepEqual(sizes, [{ partition: 'p', fileId: 'f', baseBytes: 7, logBytes: 7, logFiles: 2 }]);
});

test('maxBytesPerRun: the due groups with the most log bytes that fit, at least one; the rest are due at the next decision by their log files', () => {
  const capped = { ...policy, logToBaseRatio: 0, maxBytesPerRun: 300 };
  const groups = [g('a', 100, 10, 3), g('b', 100, 80, 3), g('c', 100, 40, 3), g('d', 100, 0)];
  const first = decideMaintenance([dc('1'), dc('2'), dc('3')], groups, capped);
  // by log bytes: b (180 bytes), then c (140) would pass 300, a (110) fits
  assert.deepEqual(first.compactGroups.map((x) => x.fileId), ['b', 'a']);
  assert.match(first.reasons.join(' | '), /compacting 2 of 3 due file groups now/);
  // after compacting a and b, c still holds its three log files: due although one deltacommit followed the compaction
  const next = decideMaintenance([dc('1'), dc('2'), dc('3'), comp('4'), dc('5')], [g('a', 100, 5, 1), g('b', 100, 5, 1), g('c', 100, 45, 4)], capped);
  assert.deepEqual(next.compactGroups.map((x) => x.fileId), ['c']);
  assert.match(next.reasons.join(' | '), /1 file group\(s\) with 3 or more log files/);
  // a budget smaller than any group still compacts one (the one with the most log bytes)
  assert.deepEqual(decideMaintenance([dc('1'), dc('2'), dc('3')], groups, { ...capped, maxBytesPerRun: 1 }).compactGroups.map((x) => x.fileId), ['b']);
  // no budget: every due group
  assert.deepEqual(decideMaintenance([dc('1'), dc('2'), dc('3')], groups, { ...capped, maxBytesPerRun: 0 }).compactGroups.map((x) => x.fileId), ['a', 'b', 'c']);
});
