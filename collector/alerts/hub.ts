// The alert hub: stores an alert (which gives it its id), then hands it to every subscriber sink
// (stdout printer, WebSocket subscribers). Sinks must not block: each one bounds its own queue and
// counts its own drops (see ws-subscribers.ts). A sink that throws is counted and skipped.
// Every stored alert is also appended to the audit hash chain (collector/audit/) before it is published.
import type { AuditLog } from '../audit';
import { errorMessage } from '../errors';
import { alertToJson, type Alert, type NewAlert } from '../model';
import type { Counter, Logger, Registry } from '../obs';
import type { Store } from '../store';

export type AlertSink = (alert: Alert) => void;

export class AlertHub {
  private readonly sinks = new Set<AlertSink>();
  private readonly raised: Counter;
  private readonly storeFailures: Counter;
  private readonly sinkFailures: Counter;

  constructor(
    private readonly store: Store,
    metrics: Registry,
    private readonly log: Logger,
    private readonly audit?: AuditLog,
    private readonly nowSecs: () => number = () => Date.now() / 1000,
  ) {
    this.raised = metrics.counter('alerts_raised_total', 'Alerts stored and published, by category.');
    this.storeFailures = metrics.counter('alert_store_failures_total', 'Alerts lost because the store refused them.');
    this.sinkFailures = metrics.counter('alert_sink_failures_total', 'Alert deliveries to a sink that threw.');
  }

  subscribe(sink: AlertSink): () => void {
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  get subscriberCount(): number {
    return this.sinks.size;
  }

  /** Store then publish. Resolves with the stored alert, or undefined when the store failed (logged, counted). */
  async raise(alert: NewAlert): Promise<Alert | undefined> {
    let stored: Alert;
    try {
      stored = await this.store.putAlert(alert, this.nowSecs());
    } catch (err) {
      this.storeFailures.inc();
      this.log.error('cannot store alert', { category: alert.category, err: errorMessage(err) });
      return undefined;
    }
    this.raised.inc({ category: stored.category });
    await this.audit?.append('alert', alertToJson(stored));
    this.publish(stored);
    return stored;
  }

  private publish(alert: Alert): void {
    for (const sink of this.sinks) {
      try {
        sink(alert);
      } catch (err) {
        this.sinkFailures.inc();
        this.log.error('alert sink failed', { err: errorMessage(err) });
      }
    }
  }
}
