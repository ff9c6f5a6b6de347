// Structured logs: one JSON object per line on stderr, so stdout stays free for flow output.
// Repeats of the same event are rate-limited: a collector that is down for an hour logs its
// trouble a few times a minute, not once per retry.

export type Level = 'info' | 'warn' | 'error';

export class Logger {
  private readonly lastByEvent = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly out: (line: string) => void = (line) => process.stderr.write(line), private readonly minIntervalMs = 10000) {}

  log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
    this.out(`${JSON.stringify({ ts: new Date().toISOString(), level, event, ...fields })}\n`);
  }

  /** Like log(), but at most once per minIntervalMs per event; the line says how many were held back. */
  limited(level: Level, event: string, fields: Record<string, unknown> = {}): void {
    const now = Date.now();
    const last = this.lastByEvent.get(event) ?? -Infinity;
    if (now - last < this.minIntervalMs) {
      this.suppressed.set(event, (this.suppressed.get(event) ?? 0) + 1);
      return;
    }
    this.lastByEvent.set(event, now);
    const held = this.suppressed.get(event) ?? 0;
    this.suppressed.delete(event);
    this.log(level, event, held > 0 ? { ...fields, suppressed_repeats: held } : fields);
  }
}
