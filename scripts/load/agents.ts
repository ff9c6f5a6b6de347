// Load generator: many simulated agents in one process, speaking the real protocol over WebSocket
// (Hello → Welcome, FlowBatch → Ack, a Heartbeat every 10 s, as agent/transport does), spread round-robin over one or more
// collector URLs. Each agent sends a batch of --flows-per-batch flows every --interval-ms, keeping at
// most --window unacknowledged, and reconnects (resending what was not acknowledged) when its
// connection drops. Optionally every --scan-every-secs one agent sends a port scan (one new source
// address probing 30 ports of one server), so that the agent→alert latency can be measured by a
// subscriber (bench:scale does).
//
//   npx tsx scripts/load/agents.ts --url ws://127.0.0.1:7470[,ws://...] --secret S [--agents 1000]
//       [--duration-secs 120] [--flows-per-batch 5] [--interval-ms 1000] [--metrics http://HOST:PORT,...]
//       [--pids PID,...]
//
// Agent i is `load-<i>` with the token `<secret>-<i>` (loadCredentials gives the collector's
// auth.agents list). Prints one JSON line every 5 s (connected agents, flows/s acknowledged, flows/s
// stored from the collectors' flows_stored_total, p99 ack latency, collector RSS from /proc) and a
// last summary line.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { decodeCollectorMessage, encodeAgentMessage, PROTOCOL_VERSION, type IFlowRecord } from '../../proto';

export interface LoadOptions {
  urls: string[];
  secret: string;
  agents: number;
  durationSecs: number;
  flowsPerBatch: number;
  intervalMs: number;
  window: number;
  /** 0 = no scans */
  scanEverySecs: number;
  /** http://HOST:PORT of each collector whose flows_stored_total counts */
  metricsUrls: string[];
  pids: number[];
  log?: (line: string) => void;
}

export interface LoadReport {
  agents: number;
  connected: number;
  batches_acked: number;
  flows_acked: number;
  flows_stored: number;
  flows_stored_per_sec: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  collector_rss_mb: number[];
  reconnects: number;
  scans_sent: Array<{ src_ip: string; sent_ms: number }>;
}

export function loadCredentials(n: number, secret: string): Array<{ agent_id: string; token_sha256: string }> {
  return Array.from({ length: n }, (_, i) => ({ agent_id: `load-${i}`, token_sha256: createHash('sha256').update(`${secret}-${i}`).digest('hex') }));
}

function stats(packets: number, bytes: number, flags: number): NonNullable<IFlowRecord['fwd']> {
  return {
    packets, ipBytes: bytes, payloadBytes: Math.max(0, bytes - packets * 40), headerBytes: packets * 40, tcpFlags: flags,
    synCount: 1, ackCount: Math.max(0, packets - 1), lenMin: 40, lenMax: 1500, lenMean: bytes / Math.max(1, packets),
  };
}

function flow(flowId: number, src: number[], dst: number[], srcPort: number, dstPort: number, nowUs: number, answered: boolean): IFlowRecord {
  return {
    srcAddr: Uint8Array.from(src), dstAddr: Uint8Array.from(dst), srcPort, dstPort, protocol: 6,
    firstUs: nowUs - 200_000, lastUs: nowUs, endReason: answered ? 3 : 1, flowId, recordSeq: 0, recordType: 1, ipVersion: 4,
    fwd: stats(answered ? 8 : 1, answered ? 1200 : 40, answered ? 0x1b : 0x02),
    bwd: answered ? stats(6, 4800, 0x1b) : stats(0, 0, 0),
    connState: answered ? 'SF' : 'S0',
  };
}

/** as the real agent's default heartbeat interval */
const HEARTBEAT_US = 10_000_000;

class SimAgent {
  private ws: WebSocket | undefined;
  private ready = false;
  private seq = 0;
  private flowId = 0;
  private readonly bootId = randomUUID();
  private readonly unacked = new Map<number, { bytes: Uint8Array; sentAt: number }>();
  private stopped = false;
  private lastHeartbeat = 0;
  connects = 0;
  batchesAcked = 0;
  flowsAcked = 0;

  constructor(private readonly i: number, private readonly url: string, private readonly token: string, private readonly o: LoadOptions, private readonly latencies: number[]) {}

  get connected(): boolean {
    return this.ready;
  }

  connect(): void {
    if (this.stopped) return;
    this.connects++;
    const ws = new WebSocket(`${this.url}/v1/agent`, { headers: { Authorization: `Bearer ${this.token}` }, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', () => ws.send(encodeAgentMessage({ hello: { protocolVersion: PROTOCOL_VERSION, agentId: `load-${this.i}`, bootId: this.bootId, hostname: `load-${this.i}`, softwareVersion: 'load', source: 'load' } })));
    ws.on('message', (data: Buffer) => {
      const msg = decodeCollectorMessage(data);
      if (msg.welcome) {
        this.ready = true;
        for (const b of this.unacked.values()) { b.sentAt = performance.now(); ws.send(b.bytes); }
      } else if (msg.ack) {
        const b = this.unacked.get(Number(msg.ack.seq));
        if (!b) return;
        this.unacked.delete(Number(msg.ack.seq));
        this.latencies.push(performance.now() - b.sentAt);
        this.batchesAcked++;
        this.flowsAcked += msg.ack.flowsStored ?? 0;
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.ready = false;
      if (!this.stopped) setTimeout(() => this.connect(), 200 + Math.random() * 300);
    });
  }

  /** One batch of ordinary flows (or the scan), if the window allows. */
  send(scan: boolean, scanSrc: number[]): void {
    if (!this.ready) return;
    const nowUs = Date.now() * 1000;
    if (nowUs - this.lastHeartbeat >= HEARTBEAT_US) {
      this.lastHeartbeat = nowUs;
      this.ws!.send(encodeAgentMessage({ heartbeat: { sentUs: nowUs, flowsExported: this.flowId, unackedBatches: this.unacked.size, softwareVersion: 'load' } }));
    }
    if (this.unacked.size >= this.o.window) return;
    const flows: IFlowRecord[] = [];
    if (scan) {
      for (let p = 0; p < 30; p++) flows.push(flow(++this.flowId, scanSrc, [192, 0, 2, 10], 40000 + p, 20 + p, nowUs, false));
    } else {
      for (let k = 0; k < this.o.flowsPerBatch; k++) {
        const n = ++this.flowId;
        flows.push(flow(n, [10, (this.i >> 8) & 255, this.i & 255, n % 250 + 1], [93, 184, 216, 34], 30000 + (n % 30000), 443, nowUs, true));
      }
    }
    const seq = ++this.seq;
    const bytes = encodeAgentMessage({ batch: { seq, bootId: this.bootId, createdUs: nowUs, flows } });
    this.unacked.set(seq, { bytes, sentAt: performance.now() });
    this.ws!.send(bytes);
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }
}

async function flowsStored(urls: string[]): Promise<number> {
  let sum = 0;
  for (const u of urls) {
    try {
      const body = await (await fetch(`${u}/metrics`)).text();
      const line = body.split('\n').find((l) => l.startsWith('flows_stored_total '));
      if (line) sum += Number(line.split(' ')[1]);
    } catch {
      // a collector that is down stores nothing
    }
  }
  return sum;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const latencies: number[] = [];
  const agents = Array.from({ length: o.agents }, (_, i) => new SimAgent(i, o.urls[i % o.urls.length], `${o.secret}-${i}`, o, latencies));
  // Connect in slices so the collectors' handshake limits are not the bottleneck.
  for (let i = 0; i < agents.length; i += 50) {
    for (const a of agents.slice(i, i + 50)) a.connect();
    await new Promise((r) => setTimeout(r, 20));
  }
  const scans: LoadReport['scans_sent'] = [];
  const started = Date.now();
  const storedAtStart = await flowsStored(o.metricsUrls);
  // Each agent ticks at its own phase of the interval, so the load is even.
  const timers = agents.map((a, i) => setTimeout(() => {
    a.send(false, []);
    timers[i] = setInterval(() => a.send(false, []), o.intervalMs);
  }, (i * o.intervalMs) / agents.length));
  let scanTimer: NodeJS.Timeout | undefined;
  if (o.scanEverySecs > 0) {
    scanTimer = setInterval(() => {
      const n = scans.length;
      const src = [198, 51, 100 + ((n >> 8) & 3), n & 255];
      const a = agents[(n * 7919) % agents.length];
      if (!a.connected) return;
      a.send(true, src);
      scans.push({ src_ip: src.join('.'), sent_ms: Date.now() });
    }, o.scanEverySecs * 1000);
  }
  const report = async (final: boolean): Promise<LoadReport> => {
    const secs = (Date.now() - started) / 1000;
    const stored = (await flowsStored(o.metricsUrls)) - storedAtStart;
    const sorted = [...latencies].sort((a, b) => a - b);
    const r: LoadReport = {
      agents: o.agents,
      connected: agents.filter((a) => a.connected).length,
      batches_acked: agents.reduce((n, a) => n + a.batchesAcked, 0),
      flows_acked: agents.reduce((n, a) => n + a.flowsAcked, 0),
      flows_stored: stored,
      flows_stored_per_sec: Math.round(stored / secs),
      ack_p50_ms: Number(percentile(sorted, 0.5).toFixed(1)),
      ack_p99_ms: Number(percentile(sorted, 0.99).toFixed(1)),
      collector_rss_mb: o.pids.map(rssMb),
      reconnects: agents.reduce((n, a) => n + Math.max(0, a.connects - 1), 0),
      scans_sent: scans,
    };
    const { scans_sent: _s, ...line } = r;
    log(JSON.stringify({ event: final ? 'summary' : 'progress', t_secs: Math.round(secs), ...line }));
    return r;
  };
  const progress = setInterval(() => void report(false), 5000);
  await new Promise((r) => setTimeout(r, o.durationSecs * 1000));
  for (const t of timers) clearInterval(t);
  if (scanTimer) clearInterval(scanTimer);
  clearInterval(progress);
  await new Promise((r) => setTimeout(r, 1000)); // the last acks
  const final = await report(true);
  for (const a of agents) a.stop();
  return final;
}

function parseArgs(argv: string[]): LoadOptions {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument ${argv[i]}`);
    flags[argv[i].slice(2)] = argv[++i];
  }
  const num = (k: string, def: number): number => {
    const v = flags[k] === undefined ? def : Number(flags[k]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} must be a non-negative number`);
    return v;
  };
  const list = (k: string): string[] => (flags[k] ?? '').split(',').filter(Boolean);
  if (!flags.url || !flags.secret) throw new Error('usage: agents.ts --url ws://HOST:PORT[,...] --secret S [--agents N] [--duration-secs S] [--flows-per-batch N] [--interval-ms MS] [--window N] [--scan-every-secs S] [--metrics URL,...] [--pids PID,...]');
  return {
    urls: list('url'), secret: flags.secret, agents: num('agents', 1000), durationSecs: num('duration-secs', 120),
    flowsPerBatch: num('flows-per-batch', 5), intervalMs: num('interval-ms', 1000), window: num('window', 4),
    scanEverySecs: num('scan-every-secs', 0), metricsUrls: list('metrics'), pids: list('pids').map(Number),
  };
}

if (require.main === module) {
  let opts: LoadOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  void runLoad(opts).then(() => process.exit(0));
}
