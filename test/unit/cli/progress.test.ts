import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { progress } from '../../../src/cli/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, text: '', write(chunk: string) { s.text += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test('a terminal gets one self-overwriting bar; a log gets periodic lines', () => {
  let t = 0;
  const tty = fakeStream(true);
  const bar = progress('ingest', { stream: tty, intervalMs: 10, now: () => t });
  for (t = 10; t <= 50; t += 10) bar.update(t * 1024 * 1024, 50 * 1024 * 1024);
  bar.end();
  assert.equal(tty.text.split('\r').length - 1, 5);
  assert.match(tty.text, /\[#{30}\] ingest 100% \(50\.0 \/ 50\.0 MiB\)\n$/);

  t = 0;
  const log = fakeStream(false);
  const lines = progress('compact', { stream: log, intervalMs: 5000, now: () => t });
  for (t = 1000; t <= 12000; t += 1000) lines.update(t, 12000);
  lines.end();
  assert.deepEqual(log.text.trim().split('\n').map((l) => l.replace(/ \(.*/, '')), ['compact 41%', 'compact 83%']);
});
