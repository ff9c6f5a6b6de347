// A flow record for the wire: computed once per record, never per packet.
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP } from '../decode/packet-meta';
import {
  CoreDirF, CoreDirI, CoreF, CoreI, Mo, StatDirF, StatDirI, StatF, StatI, TcpCount, tcpCount, type FlowRows,
} from '../flow/flow-slots';
import { EndReason, type EndReasonValue, type IAppInfo, type IDirectionStats, type IFlowRecord, type IStats } from '../../proto';
import type { AppNames } from '../decode/app/app-names';
import { communityId } from './community-id';
import { connState } from './conn-state';

const RECORD_FINAL = 1;
const RECORD_INTERIM = 2;

export function addressBytes(i32: Int32Array, at: number, ipVersion: number): Uint8Array {
  const n = ipVersion === 6 ? 4 : 1;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = i32[at + i];
    out[i * 4] = w >>> 24;
    out[i * 4 + 1] = (w >>> 16) & 0xff;
    out[i * 4 + 2] = (w >>> 8) & 0xff;
    out[i * 4 + 3] = w & 0xff;
  }
  return out;
}

function stats(a: Float64Array, o: number): IStats {
  return { n: a[o + Mo.N], min: a[o + Mo.MIN], max: a[o + Mo.MAX], mean: a[o + Mo.MEAN], m2: a[o + Mo.M2] };
}

const NO_STATS: IStats = { n: 0, min: 0, max: 0, mean: 0, m2: 0 };

/** The statistics as they would be with one more sample, without touching the flow's state. */
function statsPlus(a: Float64Array, o: number, x: number): IStats {
  const n = a[o + Mo.N] + 1;
  const delta = x - a[o + Mo.MEAN];
  const mean = a[o + Mo.MEAN] + delta / n;
  return {
    n, min: n === 1 ? x : Math.min(a[o + Mo.MIN], x), max: n === 1 ? x : Math.max(a[o + Mo.MAX], x), mean,
    m2: a[o + Mo.M2] + delta * (x - mean),
  };
}

function optional(v: number): number | undefined {
  return v < 0 ? undefined : v;
}

function directionStats(s: FlowRows, slot: number, fwd: boolean): IDirectionStats {
  const i32 = s.i32, f64 = s.f64;
  const i = slot * CoreI.STRIDE + (fwd ? CoreI.FWD : CoreI.BWD);
  const f = slot * CoreF.STRIDE + (fwd ? CoreF.FWD : CoreF.BWD);
  // One literal per layout (not the core fields spread into the full one): each is built with one shape.
  if (!s.full) {
    const tcp = i32[i + CoreDirI.TCP];
    return {
      packets: i32[i + CoreDirI.PACKETS],
      ipBytes: f64[f + CoreDirF.IP_BYTES],
      payloadBytes: f64[f + CoreDirF.PAYLOAD_BYTES],
      tcpFlags: tcp & 0xff,
      synCount: tcpCount(tcp, TcpCount.SYN),
      finCount: tcpCount(tcp, TcpCount.FIN),
      rstCount: tcpCount(tcp, TcpCount.RST),
    };
  }
  const sf = s.sf64, si = s.si32;
  const d = slot * StatF.STRIDE + (fwd ? StatF.FWD : StatF.BWD);
  const di = slot * StatI.STRIDE + (fwd ? StatI.FWD : StatI.BWD);
  const len = d + StatDirF.LEN, iat = d + StatDirF.IAT;
  return {
    packets: i32[i + CoreDirI.PACKETS],
    ipBytes: f64[f + CoreDirF.IP_BYTES],
    payloadBytes: f64[f + CoreDirF.PAYLOAD_BYTES],
    tcpFlags: i32[i + CoreDirI.TCP] & 0xff,
    synCount: si[di + StatDirI.SYN],
    finCount: si[di + StatDirI.FIN],
    rstCount: si[di + StatDirI.RST],
    headerBytes: sf[d + StatDirF.HEADER_BYTES],
    pshCount: si[di + StatDirI.PSH],
    ackCount: si[di + StatDirI.ACK],
    urgCount: si[di + StatDirI.URG],
    eceCount: si[di + StatDirI.ECE],
    cwrCount: si[di + StatDirI.CWR],
    initWindow: Math.max(0, si[di + StatDirI.INIT_WINDOW]),
    lenMin: sf[len + Mo.MIN],
    lenMax: sf[len + Mo.MAX],
    lenMean: sf[len + Mo.MEAN],
    lenM2: sf[len + Mo.M2],
    iatCount: sf[iat + Mo.N],
    iatMinUs: sf[iat + Mo.MIN],
    iatMaxUs: sf[iat + Mo.MAX],
    iatMeanUs: sf[iat + Mo.MEAN],
    iatM2Us: sf[iat + Mo.M2],
    payloadLen: stats(sf, d + StatDirF.PAYLOAD_LEN),
    nonemptyPackets: si[di + StatDirI.NONEMPTY_PACKETS],
    l4HeaderBytes: sf[d + StatDirF.L4_HEADER_BYTES],
    l4HeaderLenMin: si[di + StatDirI.L4_HEADER_LEN_MIN],
    firstUs: sf[d + StatDirF.FIRST_US],
    lastUs: sf[d + StatDirF.LAST_US],
    bulkCount: si[di + StatDirI.BULK_COUNT],
    bulkBytes: sf[d + StatDirF.BULK_BYTES],
    bulkPackets: si[di + StatDirI.BULK_PACKETS],
    bulkDurationUs: sf[d + StatDirF.BULK_DURATION_US],
    firstTcpFlags: si[di + StatDirI.FIRST_TCP_FLAGS],
    tcpMss: optional(si[di + StatDirI.TCP_MSS]),
    tcpWscale: optional(si[di + StatDirI.TCP_WSCALE]),
    tcpSackOk: si[di + StatDirI.TCP_SACK_OK] === 1,
    tcpTimestamps: si[di + StatDirI.TCP_TIMESTAMPS] === 1,
    synTtl: optional(si[di + StatDirI.SYN_TTL]),
  };
}

/** Plain numbers from a typed array's [at, at + n). */
function numbers(a: Int32Array | Float64Array, at: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let k = 0; k < n; k++) out[k] = a[at + k];
  return out;
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

/** The record's source port: ICMP has none. */
export function recordSrcPort(i32: Int32Array, slot: number): number {
  const b = slot * CoreI.STRIDE;
  return isIcmp(i32[b + CoreI.META] & 0xff) ? 0 : i32[b + CoreI.PORTS] >>> 16;
}

/** The record's destination port; for ICMP the initiator's first type/code (as IPFIX's icmpTypeCode). */
export function recordDstPort(i32: Int32Array, slot: number): number {
  const b = slot * CoreI.STRIDE;
  return isIcmp(i32[b + CoreI.META] & 0xff) ? i32[b + CoreI.ICMP_TC] : i32[b + CoreI.PORTS] & 0xffff;
}

/** The Community ID of a row whose addresses are `src` and `dst` (addressBytes of its A and B words). */
export function rowCommunityId(i32: Int32Array, slot: number, src: Uint8Array, dst: Uint8Array): string {
  const b = slot * CoreI.STRIDE;
  const protocol = i32[b + CoreI.META] & 0xff;
  if (!isIcmp(protocol)) {
    const ports = i32[b + CoreI.PORTS];
    return communityId(src, dst, protocol, ports >>> 16, ports & 0xffff);
  }
  const tc = i32[b + CoreI.ICMP_TC];
  return communityId(src, dst, protocol, tc >> 8, tc & 0xff);
}

function isIcmp(protocol: number): boolean {
  return protocol === IPPROTO_ICMP || protocol === IPPROTO_ICMPV6;
}

export function toFlowRecord(s: FlowRows, slot: number, reason: EndReasonValue): IFlowRecord {
  const i32 = s.i32, b = slot * CoreI.STRIDE, fb = slot * CoreF.STRIDE;
  const meta = i32[b + CoreI.META];
  const protocol = meta & 0xff, ipVersion = (meta >>> 8) & 0xf, tunnelType = (meta >>> 12) & 0xf;
  const src = addressBytes(i32, b + CoreI.A_ADDR, ipVersion);
  const dst = addressBytes(i32, b + CoreI.B_ADDR, ipVersion);
  const vlan = i32[b + CoreI.VLAN];
  const lastUs = s.f64[fb + CoreF.LAST_US];
  const full = s.full, sf = s.sf64, sb = slot * StatF.STRIDE;
  // The last activity period is still open: close it for this record (CICFlowMeter never does).
  const openPeriod = full ? lastUs - sf[sb + StatF.ACTIVE_START_US] : 0;
  const early = slot * s.earlyPackets, k = full ? s.si32[slot * StatI.STRIDE + StatI.EARLY_COUNT] : 0;
  return {
    srcAddr: src,
    dstAddr: dst,
    srcPort: recordSrcPort(i32, slot),
    dstPort: recordDstPort(i32, slot),
    protocol,
    vlanId: vlan < 0 ? 0 : vlan,
    hasVlan: vlan >= 0,
    firstUs: s.f64[fb + CoreF.FIRST_US],
    lastUs,
    endReason: reason,
    fwd: directionStats(s, slot, true),
    bwd: directionStats(s, slot, false),
    flowId: s.f64[fb + CoreF.FLOW_ID],
    iatUs: full ? stats(sf, sb + StatF.IAT) : NO_STATS,
    payloadLen: full ? stats(sf, sb + StatF.PAYLOAD_LEN) : NO_STATS,
    activeUs: !full ? NO_STATS : openPeriod > 0 ? statsPlus(sf, sb + StatF.ACTIVE, openPeriod) : stats(sf, sb + StatF.ACTIVE),
    idleUs: full ? stats(sf, sb + StatF.IDLE) : NO_STATS,
    subflowCount: full ? s.si32[slot * StatI.STRIDE + StatI.SUBFLOWS] : 0,
    communityId: rowCommunityId(i32, slot, src, dst),
    recordSeq: i32[b + CoreI.RECORD_SEQ],
    recordType: reason === EndReason.END_REASON_ACTIVE ? RECORD_INTERIM : RECORD_FINAL,
    ipVersion,
    tunnelType,
    tunnelId: optional(i32[b + CoreI.TUNNEL_ID]),
    earlySizes: numbers(s.earlySizes, early, k),
    earlyGapsUs: numbers(s.earlyGapsUs, early, k),
    app: appInfo(s.app.get(slot) ?? null),
    connState: protocol === IPPROTO_TCP ? connState(i32, slot) : '',
    icmpErrors: i32[b + CoreI.ICMP_ERRORS],
    tsRegressions: full ? s.si32[slot * StatI.STRIDE + StatI.TS_REGRESSIONS] : 0,
  };
}
