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
// max_tracked_sources 100000 keys per agent (slot-table.ts; least recently used half dropped first).
import type { HostScanConfig } from '../config';
import type { FlowRow } from '../model';
import { PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { ECHO, FlowKeys, PROBE_ANSWERED, PROBE_FAILED, SRC_INTERNED } from './flow-keys';
import { SlotStates } from './slot-table';
import { indexesByStart } from './start-order';

class KeyState {
  startUs = 0;
  readonly hosts = new Set<string>();
  readonly ev = new FlowEvidence();
  quietUntilUs = -Infinity;
}

/** The key part standing for every ICMP echo request (no port of a real service is negative). */
const ECHO_SERVICE = -1;

export class HostScanDetector implements Detector {
  readonly name = 'host_scan';
  /** per agent, keyed by (source id, protocol × 65536 + port or ECHO_SERVICE, source kind) */
  private readonly keys: PerAgent<SlotStates<KeyState>>;
  private probes = new Int32Array(0);

  constructor(private readonly opts: HostScanConfig) {
    this.keys = new PerAgent(() => new SlotStates(opts.max_tracked_sources, () => new KeyState()));
  }

  evictions(): number {
    return this.keys.sum((s) => s.table.evicted);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const keys = FlowKeys.of(flows, batchKeys);
    const { traits, srcId, kinds, firstUs } = keys;
    if (this.probes.length < flows.length) this.probes = new Int32Array(flows.length);
    let n = 0;
    for (let i = 0; i < flows.length; i++) {
      const t = traits[i];
      if ((t & PROBE_FAILED) !== 0 || ((t & PROBE_ANSWERED) !== 0 && (t & ECHO) !== 0)) this.probes[n++] = i;
    }
    if (n === 0) return;
    const order = indexesByStart(this.probes, n, firstUs);
    const windowUs = this.opts.window_secs * 1e6;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const f = flows[i];
      const echo = (traits[i] & ECHO) !== 0;
      const states = this.keys.of(f.agentId);
      const service = echo ? ECHO_SERVICE : keys.proto[i] * 65536 + keys.dstPort[i];
      const srcKind = kinds[i] & SRC_INTERNED;
      let st = states.get(srcId[i], service, srcKind);
      if (!st) {
        st = states.add(srcId[i], service, srcKind);
        st.startUs = f.firstUs;
        st.hosts.clear();
        st.ev.clear();
        st.quietUntilUs = -Infinity;
      }
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
