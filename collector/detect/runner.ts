// Runs every detector on a batch's flows. A detector that throws is counted
// (detector_failures_total{detector}) and logged (rate-limited); the others still run and the alerts
// it emitted before throwing are kept.
import type { FlowRow, NewAlert } from '../model';
import { LogLimiter, type Counter, type Logger, type Registry } from '../obs';
import type { Detector } from './detector';

export class DetectRunner {
  private readonly failures: Counter;
  private readonly limiter = new LogLimiter(10_000);

  constructor(private readonly detectors: readonly Detector[], metrics: Registry, private readonly log: Logger) {
    this.failures = metrics.counter(
      'detector_failures_total',
      'Detector invocations that threw; the other detectors still ran.',
      detectors.map((d) => ({ detector: d.name })),
    );
  }

  get names(): string[] {
    return this.detectors.map((d) => d.name);
  }

  run(flows: readonly FlowRow[]): NewAlert[] {
    const alerts: NewAlert[] = [];
    const emit = (a: NewAlert): void => void alerts.push(a);
    for (const d of this.detectors) {
      try {
        d.onFlows(flows, emit);
      } catch (err) {
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
    return alerts;
  }
}
