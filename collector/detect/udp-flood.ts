// UDP flood (MITRE ATT&CK T1498.001, Direct Network Flood): UDP packets towards one target from flows
// the target (nearly) never answers: bwd.packets ≤ max_reply_ratio × fwd.packets. Thresholds
// (detect.udp_flood): min_packets_per_sec 1000 packets/s; min_packets 1000 packets; window_secs 1 s;
// max_reply_ratio 0.1 (replies per request); suppress_secs 300 s; max_tracked_targets 100000.
// Counting and alerting: flood.ts.
import type { FloodConfig } from '../config';
import type { FlowRow } from '../model';
import { FloodDetector } from './flood';
import type { FlowKeys } from './flow-keys';
import { UDP } from './probes';

function udpPackets(k: FlowKeys, i: number, _f: FlowRow, opts: FloodConfig): number {
  const fwd = k.fwdPackets[i];
  if (k.proto[i] !== UDP || fwd === 0) return 0;
  return k.bwdPackets[i] <= opts.max_reply_ratio * fwd ? fwd : 0;
}

export function udpFloodDetector(opts: FloodConfig): FloodDetector {
  return new FloodDetector({ name: 'udp_flood', attackId: 'T1498.001', severity: 'high', packets: udpPackets }, opts);
}
