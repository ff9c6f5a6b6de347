// Capped exponential backoff with full jitter ("decorrelated" enough for thousands of agents that
// lost the same collector at the same moment): delay = random(initial, min(max, initial × 2^n)).
export class Backoff {
  private attempt = 0;

  constructor(private readonly initialMs: number, private readonly maxMs: number, private readonly random: () => number = Math.random) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    if (ceiling < this.maxMs) this.attempt++;
    return Math.round(this.initialMs + (ceiling - this.initialMs) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
