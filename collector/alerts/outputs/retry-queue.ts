// Ordered, bounded, retried delivery for one output (a webhook, a syslog TCP receiver).
//
// One item is in flight at a time, oldest first. A failed attempt is retried after a capped
// exponential backoff (initial × 2ⁿ, at most max; undici's habit); after `maxAttempts` attempts, or
// at once for a failure marked permanent, the item is dead-lettered: counted in
// output_dead_letters_total{output} and logged with its alert id, and the queue moves on.
// Full policy: when `maxQueue` items wait, a new one is dropped (drop newest, output_drops_total).
import { errorMessage } from '../../errors';
import type { Alert } from '../../model';
import type { Counter, Logger } from '../../obs';

export class PermanentFailure extends Error {}

export interface RetryPolicy {
  maxQueue: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export interface OutputCounters {
  sent: Counter;
  retries: Counter;
  deadLetters: Counter;
  drops: Counter;
}

export class RetryQueue {
  private readonly items: Alert[] = [];
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private idle: Array<() => void> = [];

  constructor(
    private readonly output: string,
    private readonly policy: RetryPolicy,
    /** one attempt; rejects (PermanentFailure: do not retry) when the receiver did not take it */
    private readonly deliver: (alert: Alert, attempt: number) => Promise<void>,
    private readonly counters: OutputCounters,
    private readonly log: Logger,
  ) {}

  get length(): number {
    return this.items.length;
  }

  push(alert: Alert): void {
    if (this.closed) return;
    if (this.items.length >= this.policy.maxQueue) {
      this.counters.drops.inc({ output: this.output });
      return;
    }
    this.items.push(alert);
    if (!this.running) void this.run();
  }

  /** Resolves once the queue is empty (tests, shutdown). */
  drained(): Promise<void> {
    if (!this.running && this.items.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Stops retrying; items still queued are abandoned (counted as drops). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.();
    if (this.items.length) this.counters.drops.inc({ output: this.output }, this.items.length);
    this.items.length = 0;
  }

  private backoff(attempt: number): number {
    return Math.min(this.policy.maxBackoffMs, this.policy.initialBackoffMs * 2 ** (attempt - 1));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.items.length > 0 && !this.closed) {
      const alert = this.items[0];
      for (let attempt = 1; !this.closed; attempt++) {
        try {
          await this.deliver(alert, attempt);
          this.counters.sent.inc({ output: this.output });
          break;
        } catch (err) {
          const permanent = err instanceof PermanentFailure;
          if (permanent || attempt >= this.policy.maxAttempts) {
            this.counters.deadLetters.inc({ output: this.output });
            this.log.error('alert dead-lettered', { output: this.output, alert_id: alert.id, attempts: attempt, permanent, err: errorMessage(err) });
            break;
          }
          this.counters.retries.inc({ output: this.output });
          const wait = this.backoff(attempt);
          this.log.warn('alert delivery failed; retrying', { output: this.output, alert_id: alert.id, attempt, retry_in_ms: wait, err: errorMessage(err) });
          await this.sleep(wait);
        }
      }
      if (this.items[0] === alert) this.items.shift();
    }
    this.running = false;
    const waiting = this.idle;
    this.idle = [];
    for (const r of waiting) r();
  }
}
