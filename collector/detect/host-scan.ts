// Horizontal scan (MITRE ATT&CK T1046): one source probing the same service on many hosts, as Zeek's
// scan.zeek Address_Scan (25 hosts on one port in 5 min).
//
// Counted: probes (probes.ts) that FAILED (no answer, or refused) — per (agent, source, destination
// port; all ICMP echo requests share one key, answered or not, since a ping sweep is discovery
// whether hosts answer or not). When the distinct destination hosts of one key within `window_secs`
// of flow time (the window starts at the key's first probe) reach `min_hosts` (`min_echo_hosts`
// for a ping sweep), one alert
// (category host_scan, severity medium). The key is then quiet for `suppress_secs`.
//
// Thresholds (detect.host_scan): min_hosts 25 hosts; min_echo_hosts 15 hosts; window_secs 300 s; suppress_secs 3600 s;
// max_tracked_sources 100000 keys (LRU).
import { LRUCache } from 'lru-cache';
import type { HostScanConfig } from '../config';
import type { FlowRow } from '../model';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { isEchoRequest, Probe, probeOutcome } from './probes';
import { byStart } from './start-order';

interface KeyState {
  startUs: number;
  hosts: Set<string>;
  ev: FlowEvidence;
  quietUntilUs: number;
}

export class HostScanDetector implements Detector {
  readonly name = 'host_scan';
  private readonly keys: LRUCache<string, KeyState>;

  constructor(private readonly opts: HostScanConfig) {
    this.keys = new LRUCache({ max: opts.max_tracked_sources });
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void {
    let probes: FlowRow[] | undefined;
    for (const f of flows) {
      const p = probeOutcome(f);
      if (p === Probe.FAILED || (p === Probe.ANSWERED && isEchoRequest(f))) (probes ??= []).push(f);
    }
    if (!probes) return;
    const windowUs = this.opts.window_secs * 1e6;
    for (const f of byStart(probes)) {
      const echo = isEchoRequest(f);
      const key = `${f.agentId}\u0000${f.srcIp}\u0000${echo ? 'icmp' : f.proto}/${echo ? 0 : f.dstPort}`;
      let st = this.keys.get(key);
      if (!st) this.keys.set(key, (st = { startUs: f.firstUs, hosts: new Set(), ev: new FlowEvidence(), quietUntilUs: -Infinity }));
      if (f.firstUs < st.quietUntilUs) continue;
      if (f.firstUs - st.startUs > windowUs) {
        st.startUs = f.firstUs;
        st.hosts.clear();
        st.ev.clear();
      }
      st.hosts.add(f.dstIp);
      st.ev.add(f);
      const threshold = echo ? this.opts.min_echo_hosts : this.opts.min_hosts;
      if (st.hosts.size >= threshold) {
        emit(alertFrom({
          category: 'host_scan', severity: 'medium', attack_id: 'T1046', agent_id: f.agentId,
          src_ip: f.srcIp, dst_ip: null, dst_port: echo ? null : f.dstPort,
          score: st.hosts.size, threshold,
          evidence: { rule: 'distinct_hosts', protocol: echo ? 'icmp_echo' : f.proto === 6 ? 'tcp' : String(f.proto), hosts: [...st.hosts].slice(0, 100), window_secs: this.opts.window_secs },
        }, st.ev));
        st.quietUntilUs = f.firstUs + this.opts.suppress_secs * 1e6;
        st.hosts.clear();
        st.ev.clear();
      }
    }
  }
}
