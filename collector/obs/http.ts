// GET /healthz and GET /metrics. Plain request handlers; ingest/http-server.ts routes to them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROMETHEUS_CONTENT_TYPE, type Registry } from './metrics';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function metricsHandler(registry: Registry): RequestHandler {
  return (_req, res) => {
    const body = registry.render();
    res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}

/** `status()` returns the extra fields of the health document (connections, uptime, ...). */
export function healthzHandler(status: () => Record<string, unknown>): RequestHandler {
  return (_req, res) => {
    const body = JSON.stringify({ status: 'ok', ...status() });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
}
