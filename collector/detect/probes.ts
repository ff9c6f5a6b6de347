// What a flow says about its initiator probing the responder: a TCP connection attempt (SYN by the
// initiator, not SYN-ACK backscatter) or an ICMP echo request, and whether the responder answered.
// Shared by the scan detectors (host_scan, trw).
import type { FlowRow } from '../model';

export const TCP = 6;
export const UDP = 17;
export const ICMP = 1;
export const ICMPV6 = 58;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
/** ICMP flows carry the initiator's first type/code as dst_port (type << 8 | code). */
export const ICMP_ECHO_REQUEST = 8 << 8;
export const ICMPV6_ECHO_REQUEST = 128 << 8;

export const enum Probe {
  NONE = 0,
  /** the responder never answered, or refused (RST) */
  FAILED = 1,
  /** the responder answered: SYN-ACK, or an echo reply */
  ANSWERED = 2,
}

/**
 * True when `f` is a TCP connection attempt by its initiator: it sent a SYN and no payload, and it
 * is not SYN-ACK backscatter — when every packet the initiator sent was a SYN that also carried ACK
 * (or, without counts, a single packet flagged SYN|ACK) it is answering a SYN we never saw. Flows
 * that start with RST or a bare ACK have no SYN and never count. (port-scan.ts says why.)
 */
export function isConnectionAttempt(f: FlowRow): boolean {
  if (f.proto !== TCP) return false;
  const fwd = f.fwd;
  if (fwd.packets === 0 || fwd.payloadBytes !== 0) return false;
  if (fwd.synCount === 0 && (fwd.tcpFlags & TCP_SYN) === 0) return false;
  if ((fwd.tcpFlags & TCP_ACK) !== 0) {
    const allSynAck = fwd.synCount > 0 ? fwd.synCount >= fwd.packets && fwd.ackCount >= fwd.synCount : fwd.packets === 1;
    if (allSynAck) return false;
  }
  return true;
}

/** True for an ICMP/ICMPv6 echo request flow. */
export function isEchoRequest(f: FlowRow): boolean {
  return (f.proto === ICMP && f.dstPort === ICMP_ECHO_REQUEST) || (f.proto === ICMPV6 && f.dstPort === ICMPV6_ECHO_REQUEST);
}

/** True when the responder sent SYN-ACK (the handshake got at least half way). */
export function responderAccepted(f: FlowRow): boolean {
  const b = f.bwd;
  return b.packets > 0 && (b.synCount > 0 || (b.tcpFlags & TCP_SYN) !== 0) && (b.tcpFlags & TCP_ACK) !== 0;
}

/** Classifies the flow's first record as a probe; interim updates of long flows are never probes. */
export function probeOutcome(f: FlowRow): Probe {
  if (f.recordSeq !== 0) return Probe.NONE;
  if (f.proto === TCP) {
    const fwd = f.fwd;
    if (fwd.synCount === 0 && (fwd.tcpFlags & TCP_SYN) === 0) return Probe.NONE;
    if (responderAccepted(f)) return Probe.ANSWERED;
    // no SYN-ACK: only count it when it looks like a clean attempt (no payload, not backscatter)
    return isConnectionAttempt(f) ? Probe.FAILED : Probe.NONE;
  }
  if (isEchoRequest(f)) return f.bwd.packets > 0 ? Probe.ANSWERED : Probe.FAILED;
  return Probe.NONE;
}
