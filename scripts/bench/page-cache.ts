// Keeps the capture in the page cache before each timed run. On the build VMs (Firecracker, with the
// kernel's DAMON reclaim, kdamond, running) the page cache does not keep a file for long: a 3.9 GB
// capture read once was down to 5 % resident a minute later (measured with fincore), and a cold read
// runs at about 1 GB/s against 10+ GB/s warm. Every timed run
// is therefore preceded by one sequential read of the whole file, so all tools read from memory.
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 8 * 1024 * 1024;
let scratch: Buffer | null = null;

/** Reads `file` from start to end; returns the seconds it took (a large value means it had been evicted). */
export function warmPageCache(file: string): number {
  scratch ??= Buffer.allocUnsafe(CHUNK);
  const t0 = process.hrtime.bigint();
  const fd = openSync(file, 'r');
  try {
    while (readSync(fd, scratch, 0, CHUNK, null) > 0) { /* just read */ }
  } finally {
    closeSync(fd);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
