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
// max_tracked_pairs 100000 (LRU).
import { LRUCache } from 'lru-cache';
import type { BruteForceConfig } from '../config';
import type { FlowRow } from '../model';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { responderAccepted, TCP } from './probes';
import { byStart } from './start-order';

interface Pair {
  startUs: number;
  count: number;
  clientBytes: number;
  ev: FlowEvidence;
  quietUntilUs: number;
}

export class BruteForceDetector implements Detector {
  readonly name = 'brute_force';
  private readonly pairs: LRUCache<string, Pair>;
  private readonly ports: Set<number>;
  private readonly httpPorts: Set<number>;

  constructor(private readonly opts: BruteForceConfig) {
    this.pairs = new LRUCache({ max: opts.max_tracked_pairs });
    this.ports = new Set(opts.ports);
    this.httpPorts = new Set(opts.http_post_ports);
  }

  private isAttempt(f: FlowRow): boolean {
    if (f.proto !== TCP || f.recordSeq !== 0 || f.recordType !== 'final') return false;
    if (!this.ports.has(f.dstPort) && !(this.httpPorts.has(f.dstPort) && f.app?.http_method === 'POST')) return false;
    const p = f.fwd.payloadBytes;
    return p > 0 && p <= this.opts.max_client_payload_bytes && f.lastUs - f.firstUs <= this.opts.max_duration_secs * 1e6 && responderAccepted(f);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void {
    let attempts: FlowRow[] | undefined;
    for (const f of flows) if (this.isAttempt(f)) (attempts ??= []).push(f);
    if (!attempts) return;
    const windowUs = this.opts.window_secs * 1e6;
    for (const f of byStart(attempts)) {
      const key = `${f.agentId}\u0000${f.srcIp}\u0000${f.dstIp}\u0000${f.dstPort}`;
      let p = this.pairs.get(key);
      if (!p) this.pairs.set(key, (p = { startUs: f.firstUs, count: 0, clientBytes: 0, ev: new FlowEvidence(), quietUntilUs: -Infinity }));
      if (f.firstUs < p.quietUntilUs) continue;
      if (f.firstUs - p.startUs > windowUs) {
        p.startUs = f.firstUs;
        p.count = 0;
        p.clientBytes = 0;
        p.ev.clear();
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
        p.count = 0;
        p.clientBytes = 0;
        p.ev.clear();
      }
    }
  }
}
