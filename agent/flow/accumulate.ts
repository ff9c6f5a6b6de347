// The per-packet update of a flow: counters and Welford running moments, no allocation.
// Definitions follow CICFlowMeter's feature list with its documented bugs fixed (docs/features.md).
import {
  IPPROTO_TCP, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type PacketMeta,
} from '../decode/packet-meta';
import type { DirectionState, FlowEntry } from './flow-entry';

/** Gap that separates two activity periods (CICFlowMeter's activityTimeout). */
export const ACTIVE_GAP_US = 5_000_000;
/** Gap that starts a new subflow, and the longest gap inside a bulk run. */
const SUBFLOW_GAP_US = 1_000_000;
const BULK_MIN_PACKETS = 4;

/**
 * The packet's time is read from `m` here rather than passed in: a double argument to a call V8 does
 * not inline is boxed, 16 bytes per packet (research/perf-baseline.md).
 */
export function accumulate(flow: FlowEntry, dir: number, m: PacketMeta): void {
  const nowUs = m.tsSec * 1_000_000 + m.tsUsec;
  const d = dir > 0 ? flow.fwd : flow.bwd;
  const other = dir > 0 ? flow.bwd : flow.fwd;
  const payload = m.payloadLen;
  const first = flow.packets === 0;
  const prevUs = flow.lastUs;

  // Flow-level timing: gaps in either direction, activity periods, subflows.
  if (first) {
    flow.firstUs = nowUs;
    flow.lastUs = nowUs;
    flow.activeStartUs = nowUs;
    flow.subflowCount = 1;
  } else {
    let gap = nowUs - prevUs;
    if (gap < 0) {
      gap = 0;
      flow.tsRegressions++;
    }
    flow.iat.add(gap);
    if (gap > SUBFLOW_GAP_US) flow.subflowCount++;
    if (gap > ACTIVE_GAP_US) {
      const period = prevUs - flow.activeStartUs;
      if (period > 0) flow.active.add(period);
      flow.idle.add(gap);
      flow.activeStartUs = nowUs;
    }
    if (nowUs > flow.lastUs) flow.lastUs = nowUs;
  }
  if (flow.earlyCount < flow.earlySizes.length) {
    const i = flow.earlyCount++;
    flow.earlySizes[i] = dir > 0 ? m.ipTotalLen : -m.ipTotalLen;
    flow.earlyGapsUs[i] = first ? 0 : Math.max(0, nowUs - prevUs);
  }
  flow.payloadLen.add(payload);

  // This direction.
  if (d.packets === 0) {
    d.firstUs = nowUs;
    d.l4HeaderLenMin = m.l4HeaderLen;
  } else {
    d.iat.add(nowUs > d.lastUs ? nowUs - d.lastUs : 0);
    if (m.l4HeaderLen < d.l4HeaderLenMin) d.l4HeaderLenMin = m.l4HeaderLen;
  }
  if (nowUs > d.lastUs) d.lastUs = nowUs;
  d.packets++;
  d.len.add(m.ipTotalLen);
  d.payloadLen.add(payload);
  d.ipBytes += m.ipTotalLen;
  d.payloadBytes += payload;
  d.headerBytes += m.ipHeaderLen + m.l4HeaderLen;
  d.l4HeaderBytes += m.l4HeaderLen;
  if (payload > 0) {
    d.nonemptyPackets++;
    bulk(d, other, payload, nowUs);
  }
  if (m.protocol === IPPROTO_TCP && m.l4Valid) tcp(d, m);
}

function tcp(d: DirectionState, m: PacketMeta): void {
  const f = m.tcpFlags;
  if (d.packets === 1) d.firstTcpFlags = f;
  d.tcpFlags |= f;
  if (f & TCP_SYN) {
    d.synCount++;
    if (d.synCount === 1) {
      d.initWindow = m.tcpWindow; // the SYN's (or SYN-ACK's) window, not a later one
      d.tcpMss = m.tcpMss;
      d.tcpWscale = m.tcpWscale;
      d.tcpSackOk = m.tcpSackOk;
      d.tcpTimestamps = m.tcpTimestamps;
      d.synTtl = m.ttl;
    }
  }
  if (d.initWindow < 0) d.initWindow = m.tcpWindow;
  if (f & TCP_FIN) d.finCount++;
  if (f & TCP_RST) d.rstCount++;
  if (f & TCP_PSH) d.pshCount++;
  if (f & TCP_ACK) d.ackCount++;
  if (f & TCP_URG) d.urgCount++;
  if (f & TCP_ECE) d.eceCount++;
  if (f & TCP_CWR) d.cwrCount++;
}

/**
 * A bulk is a run of ≥ 4 payload packets in one direction, each within 1 s of the previous, with no
 * payload from the other direction in between. CICFlowMeter compares directions by reference and so
 * books every bulk as backward; here each direction has its own run.
 */
function bulk(d: DirectionState, other: DirectionState, payload: number, nowUs: number): void {
  const interrupted = other.runLastUs > d.runStartUs;
  if (d.runPackets === 0 || interrupted || nowUs - d.runLastUs > SUBFLOW_GAP_US) {
    d.runStartUs = nowUs;
    d.runLastUs = nowUs;
    d.runPackets = 1;
    d.runBytes = payload;
    return;
  }
  d.runPackets++;
  d.runBytes += payload;
  if (d.runPackets === BULK_MIN_PACKETS) {
    d.bulkCount++;
    d.bulkPackets += d.runPackets;
    d.bulkBytes += d.runBytes;
    d.bulkDurationUs += nowUs - d.runStartUs;
  } else if (d.runPackets > BULK_MIN_PACKETS) {
    d.bulkPackets++;
    d.bulkBytes += payload;
    d.bulkDurationUs += nowUs - d.runLastUs;
  }
  d.runLastUs = nowUs;
}
