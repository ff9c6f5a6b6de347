// A progress bar for long offline work (reading a large capture): bytes done of the total, the rate
// and the time left. It writes to stderr only, so flows on stdout (--jsonl -, --csv -) stay clean.
// On a terminal it redraws one line in place (\r) at most every redrawMs; to a file or a pipe
// (--progress without a terminal) it writes a whole line every lineMs, which a log can keep.

export interface ProgressTarget {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  /** What is being done, e.g. the file name. */
  label: string;
  out: ProgressTarget;
  redrawMs?: number;
  lineMs?: number;
  now?: () => number;
}

const BAR_CELLS = 24;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** h:mm:ss or m:ss. */
export function formatDuration(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return '--:--';
  const s = Math.round(secs);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ProgressBar {
  private readonly started: number;
  private lastDraw = -Infinity;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private finished = false;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.started = this.now();
    this.tty = opts.out.isTTY === true;
    this.intervalMs = this.tty ? (opts.redrawMs ?? 100) : (opts.lineMs ?? 1000);
  }

  /** The line as it would be drawn now, without control characters. */
  line(done: number, total: number): string {
    const elapsedSecs = Math.max(1e-3, (this.now() - this.started) / 1000);
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * BAR_CELLS);
    const rate = done / elapsedSecs;
    const eta = done >= total ? 0 : rate > 0 ? (total - done) / rate : Infinity;
    return `${this.opts.label} [${'#'.repeat(filled)}${'-'.repeat(BAR_CELLS - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
      `${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
  }

  /** Called as work advances; draws only when the interval has passed. */
  update(done: number, total: number): void {
    const t = this.now();
    if (this.finished || t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    this.draw(done, total);
  }

  /** Draws the final state and ends the line, so what stderr says next starts on its own line. */
  finish(done: number, total: number): void {
    if (this.finished) return;
    this.finished = true;
    this.draw(done, total);
    if (this.tty) this.opts.out.write('\n');
  }

  private draw(done: number, total: number): void {
    // \x1b[K clears what a longer previous line left behind.
    this.opts.out.write(this.tty ? `\r${this.line(done, total)}\x1b[K` : `${this.line(done, total)}\n`);
  }
}
