// The collector's one HTTP(S) server: plain GET routes (/healthz, /metrics), POST routes (/v1/enrol)
// and WebSocket upgrade routes (/v1/agent, /v1/alerts). Every upgrade is checked here, on the raw
// socket, BEFORE ws sees it: per-IP connection limit (429), then the route's credential check (401,
// counted in auth_failures_total). Only an authenticated request reaches the route's accept(), which
// hands it to a WebSocketServer created with noServer. Nothing here throws out of an event handler.
//
// Hostile clients, each refused and counted in connections_rejected_total{reason}:
//   too many connections from one address still in their handshake  → destroyed (pending_per_ip_limit)
//   a TLS handshake that fails or does not finish in time             → tls_handshake / handshake_timeout
//   HTTP headers/request not complete within handshake_timeout_secs   → 408 (handshake_timeout)
//   unparsable HTTP, oversized headers                                 → 400 / 431 (bad_request / headers_too_large)
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../errors';
import type { Counter, Logger, Registry, RequestHandler } from '../obs';
import { IpLimiter } from './ip-limiter';

/** Refuse a request on the raw socket (before any WebSocket upgrade) and close it. */
export type RejectUpgrade = (status: number, message: string, headers?: Record<string, string>) => void;

export interface UpgradeRoute<P> {
  /** metric label: 'agent' | 'subscriber' */
  readonly endpoint: string;
  /** the principal the request's credential maps to, or undefined (→ 401) */
  authenticate(req: http.IncomingMessage, url: URL): P | undefined | Promise<P | undefined>;
  accept(req: http.IncomingMessage, socket: Duplex, head: Buffer, principal: P, url: URL, reject: RejectUpgrade): void;
}

/** PEM contents for an HTTPS listener; with `ca`, clients must present a certificate it signed. */
export interface ServerTls {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export interface HttpServerOptions {
  requests: Readonly<Record<string, RequestHandler>>;
  /** POST-only routes */
  posts?: Readonly<Record<string, RequestHandler>>;
  /** every other plain request, any method (the dashboard and its /api/); absent: 404 */
  fallback?: RequestHandler;
  upgrades: Readonly<Record<string, UpgradeRoute<unknown>>>;
  maxConnectionsPerIp: number;
  /** connections per address not yet upgraded (TCP/TLS/HTTP handshake in progress, or plain requests) */
  maxPendingPerIp: number;
  /** TLS handshake, then HTTP request headers, must each finish within this */
  handshakeTimeoutMs: number;
  tls?: ServerTls;
  metrics: Registry;
  log: Logger;
}

export interface HttpServerHandle {
  server: http.Server;
  /** open upgraded sockets (all endpoints) */
  openUpgrades(): number;
}

/** Set on a raw connection while it counts against its address's pending limit. */
const kPending = Symbol('pending connection');
type PendingSocket = Socket & { [kPending]?: () => void; _parent?: PendingSocket };

function rejectOnSocket(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function remoteIp(req: http.IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function createHttpServer(opts: HttpServerOptions): HttpServerHandle {
  const { metrics, log } = opts;
  const endpoints = Object.values(opts.upgrades).map((r) => ({ endpoint: r.endpoint }));
  const authFailures: Counter = metrics.counter('auth_failures_total', 'Upgrade requests refused with 401 (missing or wrong token).', endpoints);
  const rejected: Counter = metrics.counter('connections_rejected_total', 'Connections and upgrade requests refused before authentication, by reason.', [
    { reason: 'per_ip_limit' },
    { reason: 'pending_per_ip_limit' },
    { reason: 'not_found' },
    { reason: 'bad_request' },
    { reason: 'headers_too_large' },
    { reason: 'handshake_timeout' },
    { reason: 'tls_handshake' },
  ]);
  const internalErrors: Counter = metrics.counter('internal_errors_total', 'Unexpected exceptions caught in a handler, by where.');
  const limiter = new IpLimiter(opts.maxConnectionsPerIp);
  const pending = new IpLimiter(opts.maxPendingPerIp);

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      const url = new URL(req.url ?? '/', 'http://collector.invalid');
      const post = opts.posts?.[url.pathname];
      if (post) {
        if (req.method !== 'POST') {
          res.writeHead(405, { Allow: 'POST' }).end();
          return;
        }
        post(req, res);
        return;
      }
      const route = opts.requests[url.pathname];
      if (route) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { Allow: 'GET, HEAD' }).end();
          return;
        }
        route(req, res);
        return;
      }
      if (opts.upgrades[url.pathname]) {
        res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' }).end('WebSocket upgrade required\n');
        return;
      }
      if (opts.fallback) {
        opts.fallback(req, res);
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    } catch (err) {
      internalErrors.inc({ where: 'http_request' });
      log.error('http request handler failed', { err: errorMessage(err) });
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  };
  // Slow or oversized handshakes are cut (slowloris, CVE-2024-37890-style header floods). Node checks
  // the header deadline every connectionsCheckingInterval, so that runs at a fraction of it.
  const serverOpts: http.ServerOptions = {
    headersTimeout: opts.handshakeTimeoutMs,
    requestTimeout: opts.handshakeTimeoutMs * 3,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, opts.handshakeTimeoutMs / 4)),
  };
  const server: http.Server = opts.tls
    ? https.createServer({
      ...serverOpts,
      cert: opts.tls.cert,
      key: opts.tls.key,
      ca: opts.tls.ca,
      requestCert: opts.tls.ca !== undefined,
      rejectUnauthorized: opts.tls.ca !== undefined,
      handshakeTimeout: opts.handshakeTimeoutMs,
      minVersion: 'TLSv1.2',
    }, onRequest)
    : http.createServer(serverOpts, onRequest);
  server.maxHeadersCount = 100;

  // Every connection counts against its address until it is upgraded or closed; past the limit it is
  // dropped at once, before any TLS or HTTP work.
  server.on('connection', (socket: PendingSocket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    if (!pending.tryAcquire(ip)) {
      rejected.inc({ reason: 'pending_per_ip_limit' });
      socket.destroy();
      return;
    }
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      pending.release(ip);
    };
    socket[kPending] = release;
    socket.once('close', release);
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const timeout = err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT';
    rejected.inc({ reason: timeout ? 'handshake_timeout' : 'tls_handshake' });
    log.warn('TLS handshake refused', { code: err.code, err: err.message, ip: socket.remoteAddress });
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const reason = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'handshake_timeout'
      : err.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'bad_request';
    if (err.code !== 'ECONNRESET') rejected.inc({ reason });
    const status = reason === 'handshake_timeout' ? 408 : reason === 'headers_too_large' ? 431 : 400;
    if (socket.writable && err.code !== 'ECONNRESET') rejectOnSocket(socket, status, reason);
    else socket.destroy();
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // ECONNRESET etc. before ws takes the socket over
    void onUpgrade(req, socket, head);
  });

  const onUpgrade = async (req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://collector.invalid');
      const route = opts.upgrades[url.pathname] as UpgradeRoute<unknown> | undefined;
      if (!route) {
        rejected.inc({ reason: 'not_found' });
        rejectOnSocket(socket, 404, 'not found');
        return;
      }
      if (req.method !== 'GET' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
        rejected.inc({ reason: 'bad_request' });
        rejectOnSocket(socket, 400, 'expected a WebSocket upgrade');
        return;
      }
      const ip = remoteIp(req);
      if (!limiter.tryAcquire(ip)) {
        rejected.inc({ reason: 'per_ip_limit' });
        rejectOnSocket(socket, 429, 'too many connections from this address');
        return;
      }
      socket.once('close', () => limiter.release(ip));
      const principal = await route.authenticate(req, url);
      if (socket.destroyed) return;
      if (principal === undefined) {
        authFailures.inc({ endpoint: route.endpoint });
        log.warn('upgrade refused: bad credentials', { endpoint: route.endpoint, ip });
        rejectOnSocket(socket, 401, 'missing or invalid token', { 'WWW-Authenticate': 'Bearer' });
        return;
      }
      const conn = req.socket as PendingSocket;
      // Authenticated: counted by `limiter` from now on. Under TLS the request's socket is the TLSSocket
      // and the counted raw socket is its `_parent` (Node sets it; not in the typings).
      (conn[kPending] ?? conn._parent?.[kPending])?.();
      route.accept(req, socket, head, principal, url, (status, message, headers) => rejectOnSocket(socket, status, message, headers));
    } catch (err) {
      internalErrors.inc({ where: 'http_upgrade' });
      log.error('upgrade handler failed', { err: errorMessage(err) });
      rejectOnSocket(socket, 500, 'internal error');
    }
  };

  return { server, openUpgrades: () => limiter.total };
}
