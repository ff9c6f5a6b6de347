// How far the workers are behind: the parts published but not yet acknowledged by the partition
// consumers (num_pending + num_ack_pending of every worker-p<N> consumer), polled every POLL_MS. A
// partition without a consumer yet (no worker ever took it) counts its messages in the stream. The
// ingest side waits on below() while the bound is exceeded (bounded queue, full policy: block, which
// holds the agent's ack; the agent's window and spool do the rest). Waiters are let go one batch at a
// time as room appears, not all at once (a thousand agents' held batches would overshoot the bound).
import type { Logger } from '../obs';
import { errorMessage } from '../errors';
import type { Bus } from './bus';

const POLL_MS = 500;

export class Backlog {
  behind = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private waiters: Array<{ max: number; resolve: () => void }> = [];

  constructor(private readonly bus: Bus, private readonly partitions: number, private readonly log: Logger) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    void this.poll();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const counts = await Promise.all(Array.from({ length: this.partitions }, async (_, p) => {
        try {
          const c = await this.bus.jsm.consumers.info(this.bus.flowStream, `worker-p${p}`);
          return c.num_pending + c.num_ack_pending;
        } catch {
          return 0; // no consumer yet (or between a takeover's delete and add)
        }
      }));
      this.behind = counts.reduce((a, b) => a + b, 0);
      this.wake();
    } catch (err) {
      this.log.warn('cannot read the cluster backlog', { err: errorMessage(err) });
    } finally {
      this.polling = false;
    }
  }

  /** Resolves once the workers are at most `max` parts behind (checked at every poll). */
  below(max: number): Promise<void> {
    if (this.behind <= max) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ max, resolve }));
  }

  /** Parts just published: counted now, so that the next check sees them before the next poll. */
  add(parts: number): void {
    this.behind += parts;
  }

  /** Lets waiters go in arrival order, each counted as a whole batch's worth of parts, while under their bound. */
  private wake(): void {
    while (this.waiters.length > 0 && this.behind <= this.waiters[0].max) {
      this.waiters.shift()!.resolve();
      this.behind += this.partitions;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w.resolve();
  }
}
