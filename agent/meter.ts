// The per-packet path in one place: a frame is decoded into the one reused PacketMeta and, when it
// carries an IP packet, accounted to its flow. main.ts feeds it from a capture source; the benchmarks
// (scripts/bench/) drive the same function, so they measure what the agent runs.
import type { AgentConfig } from './config';
import { decodeFrame } from './decode/decode';
import { DECODE_EVENT_COUNT, DecodeEvent, PacketMeta } from './decode/packet-meta';
import type { FlowTable, FlowTableOptions } from './flow/flow-table';
import type { FrameHandler } from './capture/file-source';

export interface Meter {
  readonly onFrame: FrameHandler;
  /** Frames seen, by decode event (index = DecodeEvent). */
  readonly decodeEvents: Float64Array;
  frames(): number;
  /** Bytes on the wire of every frame seen. */
  bytes(): number;
}

/** FlowTable options from the config's `flow` section (seconds → µs). */
export function flowTableOptions(f: AgentConfig['flow']): FlowTableOptions {
  return {
    maxFlows: f.max_flows,
    idleTimeoutUs: f.idle_timeout_secs * 1e6,
    tcpIdleTimeoutUs: f.tcp_idle_timeout_secs * 1e6,
    tcpHalfOpenTimeoutUs: f.tcp_half_open_timeout_secs * 1e6,
    icmpIdleTimeoutUs: f.icmp_idle_timeout_secs * 1e6,
    activeTimeoutUs: f.active_timeout_secs * 1e6,
    tcpCloseGraceUs: f.tcp_close_grace_secs * 1e6,
    activeScanIntervalUs: Math.min(10e6, f.active_timeout_secs * 1e6),
    earlyPackets: f.early_packets,
    appInspectPackets: f.app_inspect_packets,
    features: f.features,
  };
}

/** Indexes into createMeter's counters. */
const FRAMES = 0;
const BYTES = 1;

export function createMeter(table: FlowTable): Meter {
  const meta = new PacketMeta();
  const decodeEvents = new Float64Array(DECODE_EVENT_COUNT);
  // In a typed array: a closure's number variable past 2^31 is a new heap number on every update.
  const count = new Float64Array(2);
  function onFrame(linkType: number, buf: Uint8Array, start: number, caplen: number, wirelen: number, sec: number, usec: number): void {
    count[FRAMES]++;
    count[BYTES] += wirelen;
    decodeFrame(linkType, buf, start, caplen, meta);
    meta.tsSec = sec;
    meta.tsUsec = usec;
    meta.caplen = caplen;
    meta.wirelen = wirelen;
    const ev = meta.event;
    decodeEvents[ev]++;
    // Metered: complete packets, and those whose addresses are known even if the rest is not
    // (transport header cut short, a later fragment, a broken tunnel payload counted on the outer packet).
    if (ev === DecodeEvent.OK || ev === DecodeEvent.TRUNCATED_L4 || ev === DecodeEvent.IP_FRAGMENT ||
        ev === DecodeEvent.TUNNEL_INNER_INVALID) table.add(meta, buf);
  }
  return { onFrame, decodeEvents, frames: () => count[FRAMES], bytes: () => count[BYTES] };
}
