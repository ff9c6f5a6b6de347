// SYN flood (MITRE ATT&CK T1499.001, OS Exhaustion Flood): SYN packets of connection attempts that
// never completed (the initiator sent no payload), towards one target. Thresholds (detect.syn_flood):
// min_packets_per_sec 100 SYN/s (Snort's rate_filter example, suricata-verify's SYN-flood test);
// min_packets 100 SYNs; window_secs 1 s; max_reply_ratio is not used; suppress_secs 300 s;
// max_tracked_targets 100000. Counting and alerting: flood.ts.
import type { FloodConfig } from '../config';
import type { FlowRow } from '../model';
import { FloodDetector } from './flood';
import { ATTEMPT, type FlowKeys } from './flow-keys';

function synPackets(k: FlowKeys, i: number, f: FlowRow): number {
  if ((k.traits[i] & ATTEMPT) === 0) return 0;
  return f.fwd.synCount > 0 ? f.fwd.synCount : 1;
}

export function synFloodDetector(opts: FloodConfig): FloodDetector {
  return new FloodDetector({ name: 'syn_flood', attackId: 'T1499.001', severity: 'high', packets: synPackets }, opts);
}
