// A tiny HTTP server for GET /metrics (Prometheus) and GET /healthz (JSON), off unless the config
// sets metrics.listen. It binds where it is told (127.0.0.1 by default in the docs' example): the
// numbers say how busy a gateway is, so exposing them beyond the host is the operator's choice.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics, type Sample } from './metrics';

export interface ObsServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startObsServer(
  host: string,
  port: number,
  metrics: () => readonly Sample[],
  health: () => Record<string, unknown>,
): Promise<ObsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let body: string;
    let type: string;
    if (path === '/metrics') {
      body = renderMetrics(metrics());
      type = PROMETHEUS_CONTENT_TYPE;
    } else if (path === '/healthz') {
      body = JSON.stringify({ status: 'ok', ...health() });
      type = 'application/json';
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(req.method === 'HEAD' ? undefined : body);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
