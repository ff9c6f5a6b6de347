// A flow record for the wire: computed once per record, never per packet.
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../decode/packet-meta';
import type { DirectionState, FlowEntry, Moments } from '../flow/flow-entry';
import { EndReason, type EndReasonValue, type IAppInfo, type IDirectionStats, type IFlowRecord, type IStats } from '../../proto';
import type { AppNames } from '../decode/app/app-names';
import { communityId } from './community-id';
import { connState } from './conn-state';

const RECORD_FINAL = 1;
const RECORD_INTERIM = 2;

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

function stats(s: Moments): IStats {
  return { n: s.n, min: s.min, max: s.max, mean: s.mean, m2: s.m2 };
}

/** The statistics as they would be with one more sample, without touching the flow's state. */
function statsPlus(s: Moments, x: number): IStats {
  const n = s.n + 1;
  const delta = x - s.mean;
  const mean = s.mean + delta / n;
  return { n, min: s.n === 0 ? x : Math.min(s.min, x), max: s.n === 0 ? x : Math.max(s.max, x), mean, m2: s.m2 + delta * (x - mean) };
}

function optional(v: number): number | undefined {
  return v < 0 ? undefined : v;
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
    eceCount: d.eceCount,
    cwrCount: d.cwrCount,
    initWindow: d.initWindow < 0 ? 0 : d.initWindow,
    lenMin: d.len.min,
    lenMax: d.len.max,
    lenMean: d.len.mean,
    lenM2: d.len.m2,
    iatCount: d.iat.n,
    iatMinUs: d.iat.min,
    iatMaxUs: d.iat.max,
    iatMeanUs: d.iat.mean,
    iatM2Us: d.iat.m2,
    payloadLen: stats(d.payloadLen),
    nonemptyPackets: d.nonemptyPackets,
    l4HeaderBytes: d.l4HeaderBytes,
    l4HeaderLenMin: d.l4HeaderLenMin,
    firstUs: d.firstUs,
    lastUs: d.lastUs,
    bulkCount: d.bulkCount,
    bulkBytes: d.bulkBytes,
    bulkPackets: d.bulkPackets,
    bulkDurationUs: d.bulkDurationUs,
    firstTcpFlags: d.firstTcpFlags,
    tcpMss: optional(d.tcpMss),
    tcpWscale: optional(d.tcpWscale),
    tcpSackOk: d.tcpSackOk,
    tcpTimestamps: d.tcpTimestamps,
    synTtl: optional(d.synTtl),
  };
}

function appInfo(a: AppNames | null): IAppInfo | undefined {
  if (!a) return undefined;
  return {
    dnsQuery: a.dnsQuery,
    dnsQtype: a.dnsQtype,
    dnsRcode: a.dnsRcode,
    dnsAnswers: a.dnsAnswers,
    tlsSni: a.tlsSni,
    tlsAlpn: a.tlsAlpn,
    tlsVersion: a.tlsVersion,
    ja4: a.ja4,
    httpMethod: a.httpMethod,
    httpHost: a.httpHost,
    httpUserAgent: a.httpUserAgent,
    quicVersion: a.quicVersion,
  };
}

export function toFlowRecord(flow: FlowEntry, reason: EndReasonValue): IFlowRecord {
  const icmp = flow.protocol === IPPROTO_ICMP || flow.protocol === IPPROTO_ICMPV6;
  const src = addressBytes(flow.aAddr, flow.ipVersion);
  const dst = addressBytes(flow.bAddr, flow.ipVersion);
  // The last activity period is still open: close it for this record (CICFlowMeter never does).
  const openPeriod = flow.lastUs - flow.activeStartUs;
  const activeStats = openPeriod > 0 ? statsPlus(flow.active, openPeriod) : stats(flow.active);
  const icmpType = flow.icmpTypeCode >> 8;
  const icmpCode = flow.icmpTypeCode & 0xff;
  return {
    srcAddr: src,
    dstAddr: dst,
    srcPort: icmp ? 0 : flow.aPort,
    // ICMP has no ports: the responder "port" is the initiator's first type/code (as IPFIX's icmpTypeCode).
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
    iatUs: stats(flow.iat),
    payloadLen: stats(flow.payloadLen),
    activeUs: activeStats,
    idleUs: stats(flow.idle),
    subflowCount: flow.subflowCount,
    communityId: communityId(src, dst, flow.protocol, icmp ? icmpType : flow.aPort, icmp ? icmpCode : flow.bPort),
    recordSeq: flow.recordSeq,
    recordType: reason === EndReason.END_REASON_ACTIVE ? RECORD_INTERIM : RECORD_FINAL,
    ipVersion: flow.ipVersion,
    tunnelType: flow.tunnelType,
    tunnelId: optional(flow.tunnelId),
    earlySizes: Array.from(flow.earlySizes.subarray(0, flow.earlyCount)),
    earlyGapsUs: Array.from(flow.earlyGapsUs.subarray(0, flow.earlyCount)),
    app: appInfo(flow.app),
    connState: flow.protocol === IPPROTO_TCP ? connState(flow) : '',
    icmpErrors: flow.icmpErrors,
    tsRegressions: flow.tsRegressions,
  };
}
