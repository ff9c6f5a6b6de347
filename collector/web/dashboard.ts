// The dashboard's HTTP side: static files, login/logout, and /api/* (401 without an operator session
// cookie or bearer token). The live alert feed is the ordinary /v1/alerts WebSocket: main.ts lets an
// operator session authenticate there too (`subscriberFromSession`), with the Origin checked so that
// only this dashboard's own pages can use the cookie for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { errorMessage } from '../errors';
import type { Counter, Logger, Registry } from '../obs';
import { Api, type ApiDeps } from './api';
import { HttpError, readJson, sendJson } from './http-util';
import { cookieValue, SESSION_COOKIE, SessionTable, type Operator } from './sessions';
import { StaticFiles } from './static';

export interface DashboardOptions extends ApiDeps {
  /** operator token → operator (config auth.operators, compared as sha256) */
  authenticateToken(token: string | undefined): Operator | undefined;
  /** the bearer token of a request, if any */
  bearerToken(req: IncomingMessage): string | undefined;
  sessionTtlSecs: number;
  maxSessions: number;
  collectorId: string;
  version: string;
  log: Logger;
  metrics: Registry;
  /** a successful login (main.ts records it in the audit chain) */
  onLogin?(operator: Operator, ip: string | undefined): void;
}

const ALERT_PATH = /^\/api\/alerts\/(\d{1,15})$/;

export class Dashboard {
  private readonly sessions: SessionTable;
  private readonly files = new StaticFiles();
  private readonly api: Api;
  private readonly logins: Counter;
  private readonly refused: Counter;

  constructor(private readonly opts: DashboardOptions) {
    this.sessions = new SessionTable(opts.sessionTtlSecs * 1000, opts.maxSessions);
    this.api = new Api(opts);
    this.logins = opts.metrics.counter('web_logins_total', 'Dashboard logins, by result.', [{ result: 'ok' }, { result: 'refused' }]);
    this.refused = opts.metrics.counter('web_unauthorized_total', 'Dashboard API requests refused with 401.');
    opts.metrics.gauge('web_sessions', 'Operator sessions open.', () => this.sessions.size);
  }

  /** The operator behind a request: session cookie, else bearer token. */
  operator(req: IncomingMessage): Operator | undefined {
    return this.sessions.lookup(cookieValue(req, SESSION_COOKIE)) ?? this.opts.authenticateToken(this.opts.bearerToken(req));
  }

  /**
   * For the /v1/alerts upgrade: an operator session cookie on a request from this collector's own page
   * (Origin host = Host). Browsers cannot set headers on a WebSocket; SameSite=Strict already keeps the
   * cookie off cross-site requests, the Origin check is the second lock.
   */
  subscriberFromSession(req: IncomingMessage): { name: string } | undefined {
    const op = this.sessions.lookup(cookieValue(req, SESSION_COOKIE));
    if (!op) return undefined;
    const origin = req.headers.origin;
    if (!origin) return undefined;
    try {
      if (new URL(origin).host !== req.headers.host) return undefined;
    } catch {
      return undefined;
    }
    return { name: `operator:${op.name}` };
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((err) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { error: err.message });
        return;
      }
      this.opts.log.error('dashboard request failed', { url: req.url, err: errorMessage(err) });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://collector.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (!path.startsWith('/api/')) {
      if ((method === 'GET' || method === 'HEAD') && this.files.serve(path, method === 'HEAD', res)) return;
      throw new HttpError(404, 'not found');
    }
    if (path === '/api/login') {
      if (method !== 'POST') throw new HttpError(405, 'use POST');
      const body = (await readJson(req, 4096)) as { token?: unknown } | null;
      const op = typeof body?.token === 'string' ? this.opts.authenticateToken(body.token) : undefined;
      if (!op) {
        this.logins.inc({ result: 'refused' });
        this.opts.log.warn('dashboard login refused', { ip: req.socket.remoteAddress });
        throw new HttpError(401, 'unknown token');
      }
      this.logins.inc({ result: 'ok' });
      const value = this.sessions.create(op);
      const secure = (req.socket as TLSSocket).encrypted === true;
      this.opts.log.info('dashboard login', { operator: op.name, ip: req.socket.remoteAddress });
      this.opts.onLogin?.(op, req.socket.remoteAddress);
      sendJson(res, 200, { name: op.name }, { 'Set-Cookie': this.sessions.cookie(value, secure) });
      return;
    }
    if (path === '/api/logout') {
      if (method !== 'POST') throw new HttpError(405, 'use POST');
      this.sessions.delete(cookieValue(req, SESSION_COOKIE));
      sendJson(res, 200, { ok: true }, { 'Set-Cookie': SessionTable.clearCookie() });
      return;
    }
    const op = this.operator(req);
    if (!op) {
      this.refused.inc();
      sendJson(res, 401, { error: 'login required' }, { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'use GET');
    const q = url.searchParams;
    const m = ALERT_PATH.exec(path);
    if (m) return sendJson(res, 200, await this.api.alert(Number(m[1])));
    switch (path) {
      case '/api/me':
        return sendJson(res, 200, { name: op.name, collector_id: this.opts.collectorId, version: this.opts.version });
      case '/api/agents':
        return sendJson(res, 200, await this.api.agents());
      case '/api/alerts':
        return sendJson(res, 200, await this.api.alerts(q));
      case '/api/top-talkers':
        return sendJson(res, 200, await this.api.topTalkers(q));
      case '/api/traffic':
        return sendJson(res, 200, await this.api.traffic(q));
      case '/api/detectors':
        return sendJson(res, 200, await this.api.detectors());
      case '/api/audit':
        return sendJson(res, 200, await this.api.audit());
      case '/api/stix':
        return sendJson(res, 200, await this.api.stix(q), { 'Content-Disposition': 'attachment; filename="goalkeeper-alerts.stix.json"' });
      default:
        throw new HttpError(404, `no API ${path}`);
    }
  }
}
