// Shared test helpers: protobuf message builders (through proto/index.ts, as an agent would encode
// them), an in-process collector on 127.0.0.1:0 with a real SQLite file in a temp dir, and a small
// WebSocket agent client that decodes the collector's replies. No network mocks.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import {
  decodeCollectorMessage,
  encodeAgentMessage,
  PROTOCOL_VERSION,
  type IDirectionStats,
  type IFlowRecord,
} from '../../proto';
import { validateConfig, type CollectorConfig } from '../../collector/config';
import { sha256Hex } from '../../collector/ingest';
import { startCollector, type RunningCollector, type StartOptions } from '../../collector/main';
import type { Alert } from '../../collector/model';
import { createLogger, type Logger } from '../../collector/obs';

export interface TapLike {
  teardown(fn: () => unknown): void;
}

export const TOKENS = { gw1: 'gw1-secret-token', gw2: 'gw2-secret-token', soc: 'soc-secret-token' } as const;

export function tempDir(t: TapLike): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-collector-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A raw config object (as in a JSON file) with agents gw1, gw2 and subscriber soc. */
export function rawConfig(dbPath: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    store: { sqlite_path: dbPath },
    auth: {
      agents: [
        { agent_id: 'gw1', token_sha256: sha256Hex(TOKENS.gw1) },
        { agent_id: 'gw2', token_sha256: sha256Hex(TOKENS.gw2) },
      ],
      subscribers: [{ name: 'soc', token_sha256: sha256Hex(TOKENS.soc) }],
    },
    ...extra,
  };
}

/** Log lines captured instead of printed; `lines` is parsed JSON. */
export function captureLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: createLogger({ level: 'debug', write: (l) => void lines.push(JSON.parse(l)) }), lines };
}

export interface TestCollector {
  collector: RunningCollector;
  port: number;
  dbPath: string;
  config: CollectorConfig;
  alerts: Alert[];
  logLines: Array<Record<string, unknown>>;
  url(p: string): string;
}

export async function startTestCollector(
  t: TapLike,
  opts: { extra?: Record<string, unknown>; start?: Partial<StartOptions> } = {},
): Promise<TestCollector> {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'gk.sqlite');
  const config = validateConfig(rawConfig(dbPath, opts.extra), dir);
  const alerts: Alert[] = [];
  const { log, lines } = captureLogger();
  const collector = await startCollector(config, { log, onAlert: (a) => void alerts.push(a), ...opts.start });
  t.teardown(() => collector.close());
  return {
    collector,
    port: collector.port,
    dbPath,
    config,
    alerts,
    logLines: lines,
    url: (p) => `ws://127.0.0.1:${collector.port}${p}`,
  };
}

// ---- message builders ---------------------------------------------------------------------------

export const T0_US = 1_700_000_000_000_000; // 2023-11-14, a "replayed capture" time

export function ipv4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

let nextFlowId = 1;

export interface FlowSpec {
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  protocol?: number;
  firstUs?: number;
  lastUs?: number;
  flowId?: number;
  fwd?: IDirectionStats;
  bwd?: IDirectionStats | null;
  srcAddr?: Uint8Array;
  dstAddr?: Uint8Array;
}

/** Stats of a scanner's half-open probe: one bare SYN, no payload. */
export const SYN_PROBE: IDirectionStats = { packets: 1, ipBytes: 44, headerBytes: 44, tcpFlags: 0x02, synCount: 1 };
/** The target's answer to a probe of a closed port: RST+ACK. */
export const RST_ACK: IDirectionStats = { packets: 1, ipBytes: 40, headerBytes: 40, tcpFlags: 0x14, rstCount: 1, ackCount: 1 };

export function flow(spec: FlowSpec = {}): IFlowRecord {
  const firstUs = spec.firstUs ?? T0_US;
  return {
    srcAddr: spec.srcAddr ?? ipv4(spec.src ?? '10.0.0.1'),
    dstAddr: spec.dstAddr ?? ipv4(spec.dst ?? '10.0.0.2'),
    srcPort: spec.srcPort ?? 40000,
    dstPort: spec.dstPort ?? 80,
    protocol: spec.protocol ?? 6,
    firstUs,
    lastUs: spec.lastUs ?? firstUs + 1000,
    endReason: 3,
    fwd: spec.fwd ?? SYN_PROBE,
    bwd: spec.bwd === null ? undefined : (spec.bwd ?? RST_ACK),
    flowId: spec.flowId ?? nextFlowId++,
  };
}

export function helloFrame(agentId: string, bootId = 'boot-1', protocolVersion: number = PROTOCOL_VERSION): Uint8Array {
  return encodeAgentMessage({ hello: { protocolVersion, agentId, bootId, hostname: 'gw-host', softwareVersion: '0.1.0', source: 'eth0' } });
}

export function batchFrame(seq: number, flows: IFlowRecord[], bootId = 'boot-1'): Uint8Array {
  return encodeAgentMessage({ batch: { seq, bootId, createdUs: Date.now() * 1000, flows } });
}

/** `count` probes from src to dst on ports basePort.. (distinct), one flow each. */
export function scanFlows(count: number, opts: { src?: string; dst?: string; basePort?: number; firstUs?: number } = {}): IFlowRecord[] {
  return Array.from({ length: count }, (_, i) =>
    flow({ src: opts.src, dst: opts.dst, dstPort: (opts.basePort ?? 1000) + i, firstUs: (opts.firstUs ?? T0_US) + i * 1000 }),
  );
}

// ---- a minimal agent over a real WebSocket --------------------------------------------------------

export type Reply = ReturnType<typeof decodeCollectorMessage>;

export class TestAgent {
  private readonly queue: Reply[] = [];
  private readonly waiters: Array<(r: Reply) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const r = decodeCollectorMessage(data);
      const w = this.waiters.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  static connect(port: number, token: string): Promise<TestAgent> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/agent`, { headers: { Authorization: `Bearer ${token}` } });
      const agent = new TestAgent(ws);
      ws.once('open', () => resolve(agent));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Connect and complete the hello/welcome exchange. */
  static async ready(port: number, agentId: 'gw1' | 'gw2', bootId = 'boot-1'): Promise<TestAgent> {
    const a = await TestAgent.connect(port, TOKENS[agentId]);
    a.send(helloFrame(agentId, bootId));
    const w = await a.next();
    if (!w.welcome) throw new Error(`expected welcome, got ${JSON.stringify(w.toJSON())}`);
    return a;
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes);
  }

  next(timeoutMs = 5000): Promise<Reply> {
    const r = this.queue.shift();
    if (r) return Promise.resolve(r);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a collector message')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

/** HTTP status of a WebSocket upgrade attempt that the server refuses (or 101 when it accepts). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.close();
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

/** Text messages a subscriber receives, parsed. */
export function subscribe(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; messages: Alert[]; waitFor(n: number, timeoutMs?: number): Promise<Alert[]> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const messages: Alert[] = [];
    const listeners: Array<() => void> = [];
    ws.on('message', (data) => {
      messages.push(JSON.parse(data.toString()) as Alert);
      for (const l of listeners) l();
    });
    ws.on('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        waitFor: (n, timeoutMs = 5000) =>
          new Promise((res, rej) => {
            if (messages.length >= n) return res(messages);
            const timer = setTimeout(() => rej(new Error(`timed out: ${messages.length} of ${n} alerts`)), timeoutMs);
            listeners.push(() => {
              if (messages.length >= n) {
                clearTimeout(timer);
                res(messages);
              }
            });
          }),
      }),
    );
  });
}

export async function fetchText(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

/** Value of one sample in a Prometheus text body (`name` or `name{labels}`), undefined if absent. */
export function metricValue(body: string, series: string): number | undefined {
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (line.slice(0, sp) === series) return Number(line.slice(sp + 1));
  }
  return undefined;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
