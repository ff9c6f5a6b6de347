// ICMP flood (MITRE ATT&CK T1498.001, Direct Network Flood): ICMP/ICMPv6 echo requests towards one
// target. Thresholds (detect.icmp_flood): min_packets_per_sec 100 requests/s; min_packets 200
// requests; window_secs 1 s; max_reply_ratio 1 (replies per request; 1 = answered floods count too);
// suppress_secs 300 s; max_tracked_targets 100000. Counting and alerting: flood.ts.
import type { FloodConfig } from '../config';
import type { FlowRow } from '../model';
import { FloodDetector } from './flood';
import { ECHO, type FlowKeys } from './flow-keys';

function echoPackets(k: FlowKeys, i: number, _f: FlowRow, opts: FloodConfig): number {
  if ((k.traits[i] & ECHO) === 0) return 0;
  return k.bwdPackets[i] <= opts.max_reply_ratio * k.fwdPackets[i] ? k.fwdPackets[i] : 0;
}

export function icmpFloodDetector(opts: FloodConfig): FloodDetector {
  return new FloodDetector({ name: 'icmp_flood', attackId: 'T1498.001', severity: 'high', packets: echoPackets }, opts);
}
