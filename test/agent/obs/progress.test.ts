// The progress bar's arithmetic and drawing, on a clock the test moves.
import t from 'tap';
import { ProgressBar, formatBytes, formatDuration } from '../../../agent/obs/progress';

function target(isTTY: boolean): { out: { isTTY: boolean; write(s: string): void }; text: () => string } {
  let text = '';
  return { out: { isTTY, write: (s: string) => { text += s; } }, text: () => text };
}

t.test('bytes and durations', async (t) => {
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1023), '1023 B');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
  t.equal(formatDuration(0), '0:00');
  t.equal(formatDuration(75), '1:15');
  t.equal(formatDuration(3 * 3600 + 5), '3:00:05');
  t.equal(formatDuration(Infinity), '--:--');
});

t.test('the line: percentage, done/total, rate, ETA', async (t) => {
  let now = 1000;
  const { out } = target(false);
  const bar = new ProgressBar({ label: 'big.pcap', out, now: () => now });
  now += 2000; // 2 s for 25 MiB of 100 MiB: 12.5 MiB/s, 6 s left
  t.equal(bar.line(25 * 1024 ** 2, 100 * 1024 ** 2),
    'big.pcap [######------------------]  25% 25.0 MiB/100.0 MiB 12.5 MiB/s ETA 0:06');
  t.match(bar.line(100 * 1024 ** 2, 100 * 1024 ** 2), /\[#{24}\] 100% .* ETA 0:00$/);
  t.match(bar.line(0, 0), /100%/, 'an empty file is done at once');
});

t.test('a terminal gets one line redrawn in place, at most every redrawMs, ended by finish', async (t) => {
  let now = 0;
  const { out, text } = target(true);
  const bar = new ProgressBar({ label: 'f', out, now: () => now, redrawMs: 100 });
  bar.update(10, 100);
  now = 50;
  bar.update(20, 100); // too soon: not drawn
  now = 150;
  bar.update(30, 100);
  bar.finish(100, 100);
  bar.update(100, 100); // after finish: nothing
  const draws = text().split('\r').filter(Boolean);
  t.equal(draws.length, 3);
  t.match(draws[0], /^f \[.*\]  10% .*\x1b\[K$/);
  t.match(draws[1], /  30% /);
  t.match(draws[2], / 100% .*\x1b\[K\n$/, 'the last draw ends the line');
  t.notOk(text().includes('20%'));
});

t.test('a file or pipe gets whole lines, at most every lineMs', async (t) => {
  let now = 0;
  const { out, text } = target(false);
  const bar = new ProgressBar({ label: 'f', out, now: () => now, lineMs: 1000 });
  for (let i = 1; i <= 30; i++) {
    now = i * 100;
    bar.update(i, 40);
  }
  bar.finish(40, 40);
  const lines = text().split('\n').filter(Boolean);
  t.same(lines.map((l) => /(\d+)%/.exec(l)![1]), ['3', '28', '53', '100'], 'at 0.1 s, 1.1 s, 2.1 s, and the end');
  t.notOk(text().includes('\r'));
});
