// A finished flow becomes a wire record: computed once at export, never per packet.
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../decode/packet-meta';
import type { DirectionState, FlowEntry } from '../flow/flow-entry';
import type { EndReasonValue, IDirectionStats, IFlowRecord } from '../../proto';

export function addressBytes(words: Int32Array, ipVersion: number): Uint8Array {
  const n = ipVersion === 6 ? 4 : 1;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = words[i];
    out[i * 4] = w >>> 24;
    out[i * 4 + 1] = (w >>> 16) & 0xff;
    out[i * 4 + 2] = (w >>> 8) & 0xff;
    out[i * 4 + 3] = w & 0xff;
  }
  return out;
}

function directionStats(d: DirectionState): IDirectionStats {
  return {
    packets: d.packets,
    ipBytes: d.ipBytes,
    payloadBytes: d.payloadBytes,
    headerBytes: d.headerBytes,
    tcpFlags: d.tcpFlags,
    synCount: d.synCount,
    finCount: d.finCount,
    rstCount: d.rstCount,
    pshCount: d.pshCount,
    ackCount: d.ackCount,
    urgCount: d.urgCount,
    initWindow: d.initWindow < 0 ? 0 : d.initWindow,
    lenMin: d.lenMin,
    lenMax: d.lenMax,
    lenMean: d.lenMean,
    lenM2: d.lenM2,
    iatCount: d.iatCount,
    iatMinUs: d.iatMinUs,
    iatMaxUs: d.iatMaxUs,
    iatMeanUs: d.iatMeanUs,
    iatM2Us: d.iatM2Us,
  };
}

export function toFlowRecord(flow: FlowEntry, reason: EndReasonValue): IFlowRecord {
  const icmp = flow.protocol === IPPROTO_ICMP || flow.protocol === IPPROTO_ICMPV6;
  return {
    srcAddr: addressBytes(flow.aAddr, flow.ipVersion),
    dstAddr: addressBytes(flow.bAddr, flow.ipVersion),
    srcPort: icmp ? 0 : flow.aPort,
    // ICMP has no ports: the responder "port" is the initiator's first type/code (Zeek, IPFIX do the same).
    dstPort: icmp ? flow.icmpTypeCode : flow.bPort,
    protocol: flow.protocol,
    vlanId: flow.vlanId < 0 ? 0 : flow.vlanId,
    hasVlan: flow.vlanId >= 0,
    firstUs: flow.firstUs,
    lastUs: flow.lastUs,
    endReason: reason,
    fwd: directionStats(flow.fwd),
    bwd: directionStats(flow.bwd),
    flowId: flow.flowId,
  };
}
