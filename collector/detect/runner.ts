// Runs every detector on a batch's flows. A detector that throws is counted
// (detector_failures_total{detector}) and logged (rate-limited); the others still run and the alerts
// it emitted before throwing are kept.
//
// Repeats are merged: an alert whose (agent, category, source address) already raised an alert less
// than `suppressSecs` of FLOW time before is not raised again; it is counted in
// alerts_merged_total{category} and slides the suppression window on to its own last_ts. Alerts
// without a source address are never merged. At most MAX_SUPPRESSION_KEYS keys are remembered (least recent forgotten).
//
// Per-key state a detector had to drop to stay within its caps is counted in
// detector_state_evictions_total{detector}, brought up to date at most once a second (summing a
// detector's per-agent tables on every batch would cost more than the batch).
import { LRUCache } from 'lru-cache';
import type { FlowRow, NewAlert } from '../model';
import { LogLimiter, type Counter, type Logger, type Registry } from '../obs';
import type { Detector } from './detector';
import { FlowKeys } from './flow-keys';

export const MAX_SUPPRESSION_KEYS = 100_000;

export class DetectRunner {
  private readonly failures: Counter;
  private readonly merged: Counter;
  private readonly limiter = new LogLimiter(10_000);
  private readonly lastRaised = new LRUCache<string, { lastTs: number }>({ max: MAX_SUPPRESSION_KEYS });
  private failed = 0;
  private readonly evictions: Counter;
  /** per detector, the evictions already counted */
  private readonly evictionsSeen: number[];
  private evictionsCheckedMs = 0;
  /** the shared address pre-pass, refilled per batch */
  private readonly keys = new FlowKeys();

  constructor(
    private readonly detectors: readonly Detector[],
    metrics: Registry,
    private readonly log: Logger,
    private readonly suppressSecs = 0,
  ) {
    this.failures = metrics.counter(
      'detector_failures_total',
      'Detector invocations that threw; the other detectors still ran.',
      detectors.map((d) => ({ detector: d.name })),
    );
    this.evictions = metrics.counter(
      'detector_state_evictions_total',
      'Keys of per-key detector state dropped to stay within the detector\'s caps (least recently used first); a detection that needed them can be missed.',
      detectors.filter((d) => d.evictions).map((d) => ({ detector: d.name })),
    );
    this.evictionsSeen = detectors.map(() => 0);
    this.merged = metrics.counter('alerts_merged_total', 'Alerts merged into an earlier one for the same (category, source) within detect.suppress_secs.');
  }

  get names(): string[] {
    return this.detectors.map((d) => d.name);
  }

  /** Detector invocations that threw, all detectors together. */
  get failureCount(): number {
    return this.failed;
  }

  run(flows: readonly FlowRow[]): NewAlert[] {
    const alerts: NewAlert[] = [];
    const emit = (a: NewAlert): void => {
      if (!this.isRepeat(a)) alerts.push(a);
    };
    let keys: FlowKeys | undefined;
    try {
      keys = this.keys.fill(flows);
    } catch {
      // a malformed row: each detector then parses the batch itself and fails (counted) on its own
      keys = undefined;
    }
    for (const d of this.detectors) {
      try {
        d.onFlows(flows, emit, keys);
      } catch (err) {
        this.failed++;
        this.failures.inc({ detector: d.name });
        const suppressed = this.limiter.admit(d.name);
        if (suppressed !== undefined) {
          this.log.error('detector failed', {
            detector: d.name,
            err: err instanceof Error ? err.message : String(err),
            stack: err instanceof Error ? err.stack : undefined,
            suppressed,
          });
        }
      }
    }
    const now = Date.now();
    if (now - this.evictionsCheckedMs >= 1000) {
      this.evictionsCheckedMs = now;
      this.countEvictions();
    }
    return alerts;
  }

  /** Adds to detector_state_evictions_total what each detector evicted since the last count. */
  countEvictions(): void {
    for (let i = 0; i < this.detectors.length; i++) {
      const d = this.detectors[i];
      if (!d.evictions) continue;
      const total = d.evictions();
      if (total > this.evictionsSeen[i]) this.evictions.inc({ detector: d.name }, total - this.evictionsSeen[i]);
      this.evictionsSeen[i] = total;
    }
  }

  private isRepeat(a: NewAlert): boolean {
    if (this.suppressSecs <= 0 || a.src_ip === null) return false;
    const key = `${a.agent_id}\u0000${a.category}\u0000${a.src_ip}`;
    const prev = this.lastRaised.get(key);
    if (prev && a.first_ts < prev.lastTs + this.suppressSecs && a.last_ts >= prev.lastTs - this.suppressSecs) {
      if (a.last_ts > prev.lastTs) prev.lastTs = a.last_ts;
      this.merged.inc({ category: a.category });
      return true;
    }
    this.lastRaised.set(key, { lastTs: a.last_ts });
    return false;
  }
}
