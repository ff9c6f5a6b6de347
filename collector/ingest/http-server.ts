// The collector's one HTTP server: plain GET routes (/healthz, /metrics) and WebSocket upgrade routes
// (/v1/agent, /v1/alerts). Every upgrade is checked here, on the raw socket, BEFORE ws sees it:
// per-IP connection limit (429), then the route's credential check (401, counted in
// auth_failures_total). Only an authenticated request reaches the route's accept(), which hands it to
// a WebSocketServer created with noServer. Nothing here throws out of an event handler.
import * as http from 'node:http';
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
  authenticate(req: http.IncomingMessage, url: URL): P | undefined;
  accept(req: http.IncomingMessage, socket: Duplex, head: Buffer, principal: P, url: URL, reject: RejectUpgrade): void;
}

export interface HttpServerOptions {
  requests: Readonly<Record<string, RequestHandler>>;
  /** every other plain request, any method (the dashboard and its /api/); absent: 404 */
  fallback?: RequestHandler;
  upgrades: Readonly<Record<string, UpgradeRoute<unknown>>>;
  maxConnectionsPerIp: number;
  metrics: Registry;
  log: Logger;
}

export interface HttpServerHandle {
  server: http.Server;
  /** open upgraded sockets (all endpoints) */
  openUpgrades(): number;
}

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
  const rejected: Counter = metrics.counter('connections_rejected_total', 'Upgrade requests refused before authentication, by reason.', [
    { reason: 'per_ip_limit' },
    { reason: 'not_found' },
    { reason: 'bad_request' },
  ]);
  const internalErrors: Counter = metrics.counter('internal_errors_total', 'Unexpected exceptions caught in a handler, by where.');
  const limiter = new IpLimiter(opts.maxConnectionsPerIp);

  const server = http.createServer((req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://collector.invalid');
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
  });
  // Slow or oversized handshakes are cut (slowloris, CVE-2024-37890-style header floods).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // ECONNRESET etc. before ws takes the socket over
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
      const principal = route.authenticate(req, url);
      if (principal === undefined) {
        authFailures.inc({ endpoint: route.endpoint });
        log.warn('upgrade refused: bad credentials', { endpoint: route.endpoint, ip });
        rejectOnSocket(socket, 401, 'missing or invalid token', { 'WWW-Authenticate': 'Bearer' });
        return;
      }
      route.accept(req, socket, head, principal, url, (status, message, headers) => rejectOnSocket(socket, status, message, headers));
    } catch (err) {
      internalErrors.inc({ where: 'http_upgrade' });
      log.error('upgrade handler failed', { err: errorMessage(err) });
      rejectOnSocket(socket, 500, 'internal error');
    }
  });

  return { server, openUpgrades: () => limiter.total };
}
