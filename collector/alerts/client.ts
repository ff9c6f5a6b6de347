// The `alerts` command: follow a collector's alert stream as a subscriber and print each alert as one
// JSON line. Reconnects with capped exponential backoff (500 ms × 2ⁿ up to 30 s, reset once a
// connection opens) and resumes with ?since=<last id seen>, so a collector restart loses nothing
// that was stored. A 401/403 is final (a wrong token does not heal): the follower stops with an error.
import { WebSocket } from 'ws';
import { CollectorError, CollectorErrorCode } from '../errors';
import type { Logger } from '../obs';

export interface FollowOptions {
  /** ws://host:port (the path defaults to /v1/alerts) */
  url: string;
  token: string;
  since?: number;
  /** one JSON line per alert, without the newline */
  out(line: string): void;
  log: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** no message or ping for this long → the connection is considered dead and reopened */
  idleTimeoutMs?: number;
}

export interface Follower {
  stop(): void;
  /** resolves when stopped; rejects with COLL_ERR_SUBSCRIBER_REJECTED when the collector refuses us */
  done: Promise<void>;
}

export function alertsUrl(base: string, since: number | undefined): string {
  const u = new URL(base);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new CollectorError(CollectorErrorCode.USAGE, `--url must be ws:// or wss:// (got ${base})`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/alerts';
  if (since !== undefined) u.searchParams.set('since', String(since));
  return u.toString();
}

export function followAlerts(opts: FollowOptions): Follower {
  const initial = opts.initialBackoffMs ?? 500;
  const max = opts.maxBackoffMs ?? 30_000;
  const idleMs = opts.idleTimeoutMs ?? 90_000;
  let lastId = opts.since;
  let attempt = 0;
  let stopped = false;
  let ws: WebSocket | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const bumpIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      opts.log.warn('no traffic from collector; reconnecting', { idle_ms: idleMs });
      ws?.terminate();
    }, idleMs);
  };

  const scheduleReconnect = (): void => {
    if (stopped) return;
    const delay = Math.min(max, initial * 2 ** attempt);
    attempt++;
    opts.log.info('reconnecting', { in_ms: delay, since: lastId });
    retryTimer = setTimeout(connect, delay);
  };

  function connect(): void {
    if (stopped) return;
    const target = alertsUrl(opts.url, lastId);
    const sock = new WebSocket(target, { headers: { Authorization: `Bearer ${opts.token}` }, perMessageDeflate: false });
    ws = sock;
    let refused = false;
    sock.on('open', () => {
      attempt = 0;
      bumpIdle();
      opts.log.info('subscribed', { url: target });
    });
    sock.on('ping', bumpIdle);
    sock.on('message', (data, isBinary) => {
      bumpIdle();
      if (isBinary) return;
      const text = data.toString();
      try {
        const a = JSON.parse(text) as { id?: unknown };
        if (typeof a.id === 'number') lastId = a.id;
        opts.out(JSON.stringify(a));
      } catch {
        opts.log.warn('ignoring a message that is not JSON');
      }
    });
    sock.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (status === 401 || status === 403) {
        refused = true;
        stopped = true;
        sock.terminate();
        fail(new CollectorError(CollectorErrorCode.SUBSCRIBER_REJECTED, `collector refused the subscription: HTTP ${status} (check --token)`));
        return;
      }
      opts.log.warn('collector answered the upgrade with an error', { status });
      sock.terminate();
    });
    sock.on('error', (err) => {
      if (!refused) opts.log.warn('connection error', { err: err.message });
    });
    sock.on('close', () => {
      clearTimeout(idleTimer);
      if (ws === sock) ws = undefined;
      if (stopped) {
        if (!refused) finish();
        return;
      }
      scheduleReconnect();
    });
  }

  connect();
  return {
    stop(): void {
      if (stopped) return;
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(idleTimer);
      if (ws) ws.close(1000);
      else finish();
    },
    done,
  };
}
