// GET /v1/agent: the agents' WebSocket endpoint. A WebSocketServer in noServer mode (the HTTP
// server authenticates first, see http-server.ts) with maxPayload = limits.max_frame_bytes (a larger
// frame closes that connection with 1009) and permessage-deflate off (no inflate work or zip bombs;
// batches are compact protobuf already).
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import type { AgentIdentity } from '../model';
import { LogLimiter, type Counter, type Logger, type Registry } from '../obs';
import { AgentSession, ERROR_CODE_LABELS, type IngestHandlers, type SessionOptions } from './agent-session';
import { bearerToken, type TokenTable } from './auth';
import type { UpgradeRoute } from './http-server';
import type { ValidationLimits } from './validate';

export interface AgentEndpointOptions {
  tokens: TokenTable<AgentIdentity>;
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
  private readonly sessions = new Set<AgentSession>();
  private readonly connections: Counter;
  private readonly sessionOpts: SessionOptions;

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

  authenticate(req: IncomingMessage, url: URL): AgentIdentity | undefined {
    return this.opts.tokens.lookup(bearerToken(req, url, false));
  }

  accept(req: IncomingMessage, socket: Duplex, head: Buffer, identity: AgentIdentity): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.connections.inc({ endpoint: 'agent' });
      const session = new AgentSession(ws, identity, this.sessionOpts);
      this.sessions.add(session);
      void session.done.then(() => this.sessions.delete(session));
      this.wss.emit('connection', ws, req);
    });
  }

  /** Close every agent connection (1001), wait for in-flight batches to finish, then stop. */
  async close(timeoutMs = 5000): Promise<void> {
    for (const ws of this.wss.clients) ws.close(1001, 'collector shutting down');
    const all = Promise.all([...this.sessions].map((s) => s.done));
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
