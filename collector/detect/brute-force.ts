// Brute force against login services (MITRE ATT&CK T1110, Brute Force): many short, completed
// connections from one source to one login service, each carrying a little client data — one
// guessed credential per connection, as ssh/ftp/rdp guessing tools and nmap's *-brute scripts do.
//
// Counted: final TCP flows (first record) to a port in `ports` (SSH 22, FTP 21, Telnet 23, SMTP
// 25/465/587, POP3/IMAP 110/143/993/995, VMware auth 902, MS-SQL 1433, MySQL 3306, RDP 3389,
// PostgreSQL 5432, VNC 5900), or to a port in `http_post_ports` when the agent saw an HTTP POST
// (login forms); the responder accepted the connection (SYN-ACK); the initiator sent 1 to
// `max_client_payload_bytes` bytes of payload; the flow lasted at most `max_duration_secs`.
// Per (agent, source, destination, port), in tumbling windows of `window_secs` of flow time: when
// the count reaches `min_connections`, one alert (severity high). Then quiet for `suppress_secs`.
//
// Thresholds (detect.brute_force): min_connections 10 connections; window_secs 900 s (Zeek's FTP
// script: 15 min); max_duration_secs 30 s; max_client_payload_bytes 4096 bytes; suppress_secs 1800 s;
// max_tracked_pairs 100000 per agent (slot-table.ts; least recently used half dropped first).
import type { BruteForceConfig } from '../config';
import type { FlowRow } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { ACCEPTED, FINAL, FIRST_RECORD, FlowKeys } from './flow-keys';
import { TCP } from './probes';
import { SlotStates } from './slot-table';
import { indexesByStart } from './start-order';

class Pair {
  startUs = 0;
  count = 0;
  clientBytes = 0;
  readonly ev = new FlowEvidence();
  quietUntilUs = -Infinity;

  /** Forgets the window's connections (a new window, a new key in a reused slot, or after an alert). */
  clearWindow(): void {
    this.count = 0;
    this.clientBytes = 0;
    this.ev.clear();
  }
}

export class BruteForceDetector implements Detector {
  readonly name = 'brute_force';
  /** per agent, keyed by (source id, destination id, port + 65536 × kinds): flow-keys.ts */
  private readonly pairs: PerAgent<SlotStates<Pair>>;
  private readonly ports: Set<number>;
  private readonly httpPorts: Set<number>;
  private attempts = new Int32Array(0);

  constructor(private readonly opts: BruteForceConfig) {
    this.pairs = new PerAgent(() => new SlotStates(opts.max_tracked_pairs, () => new Pair()));
    this.ports = new Set(opts.ports);
    this.httpPorts = new Set(opts.http_post_ports);
  }

  private isAttempt(k: FlowKeys, i: number, f: FlowRow): boolean {
    const t = k.traits[i];
    if (k.proto[i] !== TCP || (t & (FIRST_RECORD | FINAL | ACCEPTED)) !== (FIRST_RECORD | FINAL | ACCEPTED)) return false;
    const p = k.fwdPayload[i];
    if (p <= 0 || p > this.opts.max_client_payload_bytes || k.lastUs[i] - k.firstUs[i] > this.opts.max_duration_secs * 1e6) return false;
    const port = k.dstPort[i];
    return this.ports.has(port) || (this.httpPorts.has(port) && f.app?.http_method === 'POST');
  }

  evictions(): number {
    return this.pairs.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const keys = FlowKeys.of(flows, batchKeys);
    if (this.attempts.length < flows.length) this.attempts = new Int32Array(flows.length);
    let n = 0;
    for (let i = 0; i < flows.length; i++) if (this.isAttempt(keys, i, flows[i])) this.attempts[n++] = i;
    if (n === 0) return;
    const order = indexesByStart(this.attempts, n, keys.firstUs);
    const windowUs = this.opts.window_secs * 1e6;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const f = flows[i];
      const pairs = this.pairs.of(f.agentId);
      const svc = f.dstPort + 65536 * keys.kinds[i];
      let p = pairs.get(keys.srcId[i], keys.dstId[i], svc);
      if (!p) {
        p = pairs.add(keys.srcId[i], keys.dstId[i], svc);
        p.startUs = f.firstUs;
        p.clearWindow();
        p.quietUntilUs = -Infinity;
      }
      if (f.firstUs < p.quietUntilUs) continue;
      if (f.firstUs - p.startUs > windowUs) {
        p.startUs = f.firstUs;
        p.clearWindow();
      }
      p.count++;
      p.clientBytes += f.fwd.payloadBytes;
      p.ev.add(f);
      if (p.count >= this.opts.min_connections) {
        emit(alertFrom({
          category: 'brute_force', severity: 'high', attack_id: 'T1110', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
          dst_port: f.dstPort, score: p.count, threshold: this.opts.min_connections,
          evidence: { connections: p.count, window_secs: this.opts.window_secs, mean_client_payload_bytes: Math.round(p.clientBytes / p.count) },
        }, p.ev));
        p.quietUntilUs = f.firstUs + this.opts.suppress_secs * 1e6;
        p.clearWindow();
      }
    }
  }
}
