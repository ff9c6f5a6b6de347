// GET /v1/agent: the agents' WebSocket endpoint. A WebSocketServer in noServer mode (the HTTP
// server authenticates first, see http-server.ts) with maxPayload = limits.max_frame_bytes (a larger
// frame closes that connection with 1009) and permessage-deflate off (no inflate work or zip bombs;
// batches are compact protobuf already; a client that sets RSV1 anyway is a protocol error, 1002).
//
// Identity: authenticate() maps the bearer credential to one agent id, and the session refuses a Hello
// naming any other (AGENT_MISMATCH). A connection that sends no Hello within helloTimeoutMs is closed;
// open connections are re-checked every revocationCheckMs, so a revoked agent is cut off.
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AgentIdentity } from '../model';
import { LogLimiter, type Counter, type Logger, type Registry } from '../obs';
import { AgentSession, CLOSE_POLICY_VIOLATION, ERROR_CODE_LABELS, type IngestHandlers, type SessionOptions } from './agent-session';
import { bearerToken } from './auth';
import type { UpgradeRoute } from './http-server';
import type { ValidationLimits } from './validate';

/** Result of a credential check: the agent, or why not. */
export type AgentAuthOutcome = { identity: AgentIdentity } | { refused: 'unknown' | 'revoked' };

export interface AgentEndpointOptions {
  authenticate(bearer: string | undefined): Promise<AgentAuthOutcome>;
  /** false once the credential the connection was opened with is revoked or replaced */
  stillValid(identity: AgentIdentity): Promise<boolean>;
  revocationCheckMs: number;
  helloTimeoutMs: number;
  handlers: IngestHandlers;
  collectorId: string;
  maxFrameBytes: number;
  limits: ValidationLimits;
  metrics: Registry;
  log: Logger;
}

export class AgentEndpoint implements UpgradeRoute<AgentIdentity> {
  readonly endpoint = 'agent';
  readonly wss: WebSocketServer;
  private readonly sessions = new Map<AgentSession, WebSocket>();
  private readonly connections: Counter;
  private readonly refusals: Counter;
  private readonly sessionOpts: SessionOptions;
  private readonly revocationTimer: NodeJS.Timeout;

  constructor(private readonly opts: AgentEndpointOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: true,
    });
    const m = opts.metrics;
    this.connections = m.counter('connections_total', 'WebSocket connections accepted (after authentication), by endpoint.', [
      { endpoint: 'agent' },
    ]);
    m.gauge('connections_open', 'WebSocket connections open now, by endpoint.', () => [[{ endpoint: 'agent' }, this.sessions.size]]);
    this.refusals = m.counter('agent_refusals_total', 'Agent connections refused or cut for identity reasons, by reason.', [
      { reason: 'unknown_credential' }, { reason: 'revoked' }, { reason: 'hello_timeout' }, { reason: 'revoked_while_connected' },
    ]);
    this.revocationTimer = setInterval(() => void this.checkRevocations(), opts.revocationCheckMs);
    this.revocationTimer.unref();
    const badCodes = [...Object.values(ERROR_CODE_LABELS).filter((c) => c !== 'STORE_FAILED'), 'WS_PROTOCOL'];
    this.sessionOpts = {
      collectorId: opts.collectorId,
      maxFrameBytes: opts.maxFrameBytes,
      limits: opts.limits,
      handlers: opts.handlers,
      log: opts.log,
      logLimiter: new LogLimiter(10_000),
      counters: {
        frames: m.counter('frames_total', 'Frames received from agents (binary and text).'),
        badFrames: m.counter(
          'bad_frames_total',
          'Agent frames refused, by code (TOO_LARGE: over max_frame_bytes, connection closed 1009).',
          badCodes.map((code) => ({ code })),
        ),
        heartbeats: m.counter('heartbeats_total', 'Heartbeats received from agents.'),
        internalErrors: m.counter('internal_errors_total', 'Unexpected exceptions caught in a handler, by where.'),
      },
    };
  }

  get connected(): number {
    return this.sessions.size;
  }

  async authenticate(req: IncomingMessage, url: URL): Promise<AgentIdentity | undefined> {
    const r = await this.opts.authenticate(bearerToken(req, url, false));
    if ('identity' in r) return r.identity;
    this.refusals.inc({ reason: r.refused === 'revoked' ? 'revoked' : 'unknown_credential' });
    return undefined;
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, identity: AgentIdentity): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.connections.inc({ endpoint: 'agent' });
      const session = new AgentSession(ws, identity, this.sessionOpts);
      this.sessions.set(session, ws);
      const helloTimer = setTimeout(() => {
        if (session.helloReceived || ws.readyState !== ws.OPEN) return;
        this.refusals.inc({ reason: 'hello_timeout' });
        ws.close(CLOSE_POLICY_VIOLATION, 'HELLO_TIMEOUT');
        setTimeout(() => ws.terminate(), 1000).unref();
      }, this.opts.helloTimeoutMs);
      helloTimer.unref();
      void session.done.then(() => {
        clearTimeout(helloTimer);
        this.sessions.delete(session);
      });
      this.wss.emit('connection', ws, req);
    });
  }

  /** Cut the connections of agents whose credential was revoked since they connected. */
  private async checkRevocations(): Promise<void> {
    for (const [session, ws] of this.sessions) {
      try {
        if (await this.opts.stillValid(session.identity)) continue;
      } catch (err) {
        this.opts.log.error('cannot check an agent credential', { agent_id: session.agentId, err: String(err) });
        continue;
      }
      if (ws.readyState !== ws.OPEN) continue;
      this.refusals.inc({ reason: 'revoked_while_connected' });
      this.opts.log.warn('agent credential revoked; closing its connection', { agent_id: session.agentId });
      ws.close(CLOSE_POLICY_VIOLATION, 'REVOKED');
    }
  }

  /** Close every agent connection (1001), wait for in-flight batches to finish, then stop. */
  async close(timeoutMs = 5000): Promise<void> {
    clearInterval(this.revocationTimer);
    for (const ws of this.wss.clients) ws.close(1001, 'collector shutting down');
    const all = Promise.all([...this.sessions.keys()].map((s) => s.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      for (const ws of this.wss.clients) ws.terminate();
      await Promise.race([all, new Promise((r) => setTimeout(r, 1000))]);
    }
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
