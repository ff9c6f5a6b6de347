// Alert fan-out across collectors. A worker publishes each alert to STREAM.alerts with its
// deterministic key as the JetStream message id (codec.ts alertKey), so the same detection made twice
// (takeover replay, redelivery) is stored in the stream once. The stream sequence is the alert's id,
// the same on every collector. Every collector follows the stream (AlertFeed) and raises each alert in
// its own AlertHub, whose store is wrapped (hubStore) so that:
//   putAlert     returns the alert with its stream id and ts instead of numbering it locally, and
//   alertsSince  reads the stream, so `?since=<id>` resumes on any collector.
// The other Store methods go to the collector's own store untouched. With a shared PostgreSQL store the
// workers also store every alert there under its stream id (partition-runner.ts), so the dashboard,
// alertById and stix-export of every collector read the cluster's alerts from it.
import { DeliverPolicy, type ConsumerMessages } from 'nats';
import type { AlertHub } from '../alerts';
import { matches } from '../alerts/filter';
import { errorMessage } from '../errors';
import type { Alert, NewAlert } from '../model';
import type { Counter, Logger, Registry } from '../obs';
import type { AlertFilter, Store } from '../store';
import type { Bus } from './bus';
import { alertKey, decodeAlert, encodeAlert } from './codec';

export interface PublishedAlert {
  key: string;
  /** the alert's id: its stream sequence (for a duplicate key, the sequence of the copy already there) */
  id: number;
  /** false: the stream had this key already */
  fresh: boolean;
}

/** Worker side: publish with the deterministic key as message id. */
export async function publishAlert(bus: Bus, alert: NewAlert, nowSecs: number): Promise<PublishedAlert> {
  const key = alertKey(alert);
  const ack = await bus.js.publish(bus.alertSubject, encodeAlert({ key, ts: nowSecs, alert }), { msgID: key });
  return { key, id: ack.seq, fresh: !ack.duplicate };
}

function toAlert(id: number, data: Uint8Array): Alert {
  const m = decodeAlert(data);
  return { ...m.alert, id, ts: m.ts };
}

/** Alerts with stream sequence > afterId, oldest first, at most `limit` matching `filter`. */
export async function alertsFromStream(bus: Bus, afterId: number, limit: number, filter?: AlertFilter): Promise<Alert[]> {
  const info = await bus.jsm.streams.info(bus.alertStream);
  const out: Alert[] = [];
  for (let seq = Math.max(afterId + 1, info.state.first_seq); seq <= info.state.last_seq && out.length < limit; seq++) {
    let data: Uint8Array;
    try {
      data = (await bus.jsm.streams.getMessage(bus.alertStream, { seq })).data;
    } catch {
      continue; // removed by the stream's limits
    }
    const a = toAlert(seq, data);
    if (matches(filter, a)) out.push(a);
  }
  return out;
}

/** The hub's store: ids come from the stream (see the file comment). */
export function hubStore(store: Store, bus: Bus, ids: WeakMap<NewAlert, Alert>): Store {
  const putAlert = async (alert: NewAlert): Promise<Alert> => {
    const known = ids.get(alert);
    if (!known) throw new Error('cluster mode: alerts are raised from the alert stream only');
    return known;
  };
  const alertsSince = (afterId: number, limit: number, filter?: AlertFilter): Promise<Alert[]> => alertsFromStream(bus, afterId, limit, filter);
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'putAlert') return putAlert;
      if (prop === 'alertsSince') return alertsSince;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Follows the alert stream from its end and raises every alert in this collector's hub, in id order. */
export class AlertFeed {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private readonly received: Counter;

  constructor(private readonly bus: Bus, private readonly hub: AlertHub, private readonly ids: WeakMap<NewAlert, Alert>, metrics: Registry, private readonly log: Logger) {
    this.received = metrics.counter('cluster_alerts_received_total', 'Alerts read from the JetStream alert stream and raised in this collector\'s hub.');
  }

  async start(): Promise<void> {
    const consumer = await this.bus.js.consumers.get(this.bus.alertStream, { deliver_policy: DeliverPolicy.New });
    this.messages = await consumer.consume();
    void this.run(this.messages);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        const alert = toAlert(m.seq, m.data);
        const { id: _id, ts: _ts, ...fresh } = alert;
        this.ids.set(fresh, alert);
        this.received.inc();
        await this.hub.raise(fresh);
      }
    } catch (err) {
      if (!this.stopped) this.log.error('alert feed stopped', { err: errorMessage(err) });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
  }
}
