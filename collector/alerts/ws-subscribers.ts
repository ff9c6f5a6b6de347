// GET /v1/alerts: WebSocket alert subscribers. One JSON text message per alert (the alert object of
// the JSON contract). `?since=<id>` first replays stored alerts with a larger id (oldest first, at
// most alerts.max_replay_alerts), then follows live; live alerts raised during the replay are held
// (bounded) and sent after it, so the stream is in id order without gaps or repeats.
//
// Full policy: a subscriber whose socket has more than alerts.max_buffered_bytes_per_subscriber
// unsent (ws.bufferedAmount) loses the alert (drop newest), counted in subscriber_drops_total. Ingest is
// never blocked by a slow subscriber. Ids let a subscriber see the gap and reconnect with ?since=.
//
// Filters (filter.ts): `?min_severity=high&category=port_scan&agent=gw1&host=10.0.0.5` (lists may be
// repeated or comma-separated). The replay and the live stream apply the same filter, so a subscriber
// that reconnects with ?since=<last id it saw> and the same filter misses nothing it asked for.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { errorMessage } from '../errors';
import { alertToJson, type Alert } from '../model';
import type { Counter, Logger, Registry } from '../obs';
import type { AlertFilter, Store } from '../store';
import { filterFromQuery, matches, toAlertFilter } from './filter';
import type { AlertHub } from './hub';

export interface SubscriberPrincipal {
  readonly name: string;
}

export interface SubscriberEndpointOptions {
  hub: AlertHub;
  store: Store;
  maxBufferedBytes: number;
  maxReplayAlerts: number;
  /** credential check, supplied by main (ingest/auth) */
  authenticate(req: IncomingMessage, url: URL): SubscriberPrincipal | undefined;
  metrics: Registry;
  log: Logger;
}

type Reject = (status: number, message: string) => void;

interface Subscriber {
  ws: WebSocket;
  name: string;
  lastSentId: number;
  replaying: boolean;
  held: Alert[];
  filter: AlertFilter | undefined;
}

const REPLAY_PAGE = 500;
/** live alerts held per subscriber while its replay runs; beyond this they are dropped (counted) */
const MAX_HELD = 10_000;

export class SubscriberEndpoint {
  readonly endpoint = 'subscriber';
  readonly wss: WebSocketServer;
  private readonly subs = new Set<Subscriber>();
  private readonly drops: Counter;
  private readonly sent: Counter;
  private readonly connections: Counter;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: SubscriberEndpointOptions) {
    // Subscribers send nothing we read; a tiny maxPayload keeps them from using memory.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false, clientTracking: true });
    const m = opts.metrics;
    this.drops = m.counter('subscriber_drops_total', 'Alerts not sent to a subscriber because its send buffer was full.');
    this.sent = m.counter('subscriber_alerts_sent_total', 'Alerts sent to WebSocket subscribers, by phase (replay of stored alerts, or live).', [{ phase: 'replay' }, { phase: 'live' }]);
    this.connections = m.counter('connections_total', 'WebSocket connections accepted (after authentication), by endpoint.');
    this.connections.inc({ endpoint: 'subscriber' }, 0);
    m.gauge('subscribers_connected', 'Alert subscribers connected now.', () => this.subs.size);
    this.unsubscribe = opts.hub.subscribe((a) => this.publish(a));
  }

  get connected(): number {
    return this.subs.size;
  }

  authenticate(req: IncomingMessage, url: URL): SubscriberPrincipal | undefined {
    return this.opts.authenticate(req, url);
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, who: SubscriberPrincipal, url: URL, reject: Reject): void {
    const sinceParam = url.searchParams.get('since');
    let since: number | undefined;
    if (sinceParam !== null) {
      since = Number(sinceParam);
      if (!/^\d{1,15}$/.test(sinceParam) || !Number.isSafeInteger(since)) {
        reject(400, 'since must be a non-negative integer alert id');
        return;
      }
    }
    const parsed = filterFromQuery(url.searchParams);
    if ('error' in parsed) {
      reject(400, parsed.error);
      return;
    }
    const filter = toAlertFilter(parsed.spec);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.connections.inc({ endpoint: 'subscriber' });
      const sub: Subscriber = { ws, name: who.name, lastSentId: 0, replaying: since !== undefined, held: [], filter };
      this.subs.add(sub);
      ws.on('error', (err) => this.opts.log.warn('subscriber connection error', { subscriber: sub.name, err: err.message }));
      ws.on('close', () => this.subs.delete(sub));
      this.wss.emit('connection', ws, req);
      this.opts.log.info('subscriber connected', { subscriber: sub.name, since, filter: parsed.spec });
      if (since !== undefined) void this.replay(sub, since);
    });
  }

  private publish(alert: Alert): void {
    for (const sub of this.subs) {
      if (!matches(sub.filter, alert)) continue;
      if (sub.replaying) {
        if (sub.held.length >= MAX_HELD) this.drops.inc();
        else sub.held.push(alert);
        continue;
      }
      this.sendLive(sub, alert);
    }
  }

  private sendLive(sub: Subscriber, alert: Alert): void {
    if (alert.id <= sub.lastSentId || sub.ws.readyState !== WebSocket.OPEN) return;
    sub.lastSentId = alert.id;
    if (sub.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.drops.inc();
      return;
    }
    sub.ws.send(JSON.stringify(alertToJson(alert)));
    this.sent.inc({ phase: 'live' });
  }

  /** Replay paces itself on the socket (waits for each page to be written) instead of dropping. */
  private async replay(sub: Subscriber, since: number): Promise<void> {
    let cursor = since;
    let left = this.opts.maxReplayAlerts;
    try {
      while (left > 0 && sub.ws.readyState === WebSocket.OPEN) {
        const page = await this.opts.store.alertsSince(cursor, Math.min(REPLAY_PAGE, left), sub.filter);
        if (page.length === 0) break;
        let written: Promise<void> = Promise.resolve();
        for (const a of page) {
          written = new Promise((resolve) => sub.ws.send(JSON.stringify(alertToJson(a)), () => resolve()));
          cursor = a.id;
          sub.lastSentId = a.id;
        }
        left -= page.length;
        this.sent.inc({ phase: 'replay' }, page.length);
        await written;
      }
    } catch (err) {
      this.opts.log.error('alert replay failed', { subscriber: sub.name, err: errorMessage(err) });
    }
    sub.replaying = false;
    const held = sub.held;
    sub.held = [];
    for (const a of held) this.sendLive(sub, a);
  }

  async close(timeoutMs = 2000): Promise<void> {
    this.unsubscribe();
    const closed = [...this.wss.clients].map((ws) => new Promise<void>((r) => {
      if (ws.readyState === WebSocket.CLOSED) r();
      else ws.once('close', () => r());
    }));
    for (const ws of this.wss.clients) ws.close(1001, 'collector shutting down');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
