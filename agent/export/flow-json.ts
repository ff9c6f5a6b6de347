// The JSON form of a flow record (one object per line in --jsonl): a stable interface that scripts
// rely on. src is the initiator, times are seconds since the epoch (float), lengths are IP total
// lengths, durations and gaps are µs, std is the sample standard deviation (n - 1), and a value that
// does not apply is null, never 0, -1, NaN or Infinity. docs/features.md lists every field.
//
// Written straight from the flow's rows (flow/flow-slots.ts) into a LineBuffer, with the keys as
// constant fragments: building the wire record (features/flow-record.ts), then the line as a string
// key by key, then encoding it cost ~40 µs per flow, more than the per-packet path of the flow's
// packets (offline, the output worker fell behind the capture thread). Fields a compact row does not
// have print as its wire record leaves them: 0, false or null.
import { TUNNEL_NAMES } from '../decode/packet-meta';
import type { AppNames } from '../decode/app/app-names';
import {
  CoreDirF, CoreDirI, CoreF, CoreI, Mo, StatDirF, StatDirI, StatF, StatI, TcpCount, tcpCount, type FlowRows,
} from '../flow/flow-slots';
import { addressBytes, recordDstPort, recordSrcPort, rowCommunityId } from '../features/flow-record';
import { connState } from '../features/conn-state';
import { EndReason, END_REASON_NAMES, formatAddress, type EndReasonValue } from '../../proto';
import { LineBuffer, fragment } from './line-buffer';

export function sampleStd(m2: number, n: number): number {
  return n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
}

type StatsKeys = readonly [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];

/** `,"<prefix>_n":` … `,"<prefix>_std":`. */
function statsKeys(prefix: string): StatsKeys {
  return ['n', 'min', 'max', 'mean', 'std'].map((s) => fragment(`,"${prefix}_${s}":`)) as unknown as StatsKeys;
}

/** n, min, max, mean, std (null when there were no samples). */
function stats(o: LineBuffer, k: StatsKeys, n: number, min: number, max: number, mean: number, m2: number): void {
  o.raw(k[0]).num(n);
  if (n > 0) o.raw(k[1]).num(min).raw(k[2]).num(max).raw(k[3]).num(mean).raw(k[4]).num(sampleStd(m2, n));
  else o.raw(k[1]).raw(NULL).raw(k[2]).raw(NULL).raw(k[3]).raw(NULL).raw(k[4]).raw(NULL);
}

/** The Welford moments at `o` (Mo layout). */
function moments(o: LineBuffer, k: StatsKeys, a: Float64Array, at: number): void {
  stats(o, k, a[at + Mo.N], a[at + Mo.MIN], a[at + Mo.MAX], a[at + Mo.MEAN], a[at + Mo.M2]);
}

/** The moments at `at` as they would be with one more sample `x`, without touching the flow's state. */
function momentsPlus(o: LineBuffer, k: StatsKeys, a: Float64Array, at: number, x: number): void {
  const n = a[at + Mo.N] + 1;
  const delta = x - a[at + Mo.MEAN];
  const mean = a[at + Mo.MEAN] + delta / n;
  stats(o, k, n, n === 1 ? x : Math.min(a[at + Mo.MIN], x), n === 1 ? x : Math.max(a[at + Mo.MAX], x), mean,
    a[at + Mo.M2] + delta * (x - mean));
}

const NULL = fragment('null');

const DIRECTION_FIELDS = [
  'payload_bytes', 'header_bytes', 'l4_header_bytes', 'nonempty_packets', 'first_ts', 'last_ts', 'tcp_flags',
  'first_tcp_flags', 'syn_count', 'fin_count', 'rst_count', 'psh_count', 'ack_count', 'urg_count',
  'ece_count', 'cwr_count', 'init_window', 'tcp_mss', 'tcp_wscale', 'tcp_sack_ok', 'tcp_timestamps',
  'syn_ttl', 'l4_header_len_min', 'bulk_count', 'bulk_bytes', 'bulk_packets', 'bulk_duration_us',
] as const;

type DirectionKeys = Record<(typeof DIRECTION_FIELDS)[number], Uint8Array> &
  { len: StatsKeys; payload_len: StatsKeys; iat_us: StatsKeys };

function directionKeys(p: string): DirectionKeys {
  const k = Object.fromEntries(DIRECTION_FIELDS.map((f) => [f, fragment(`,"${p}_${f}":`)])) as Record<string, unknown>;
  k.len = statsKeys(`${p}_len`);
  k.payload_len = statsKeys(`${p}_payload_len`);
  k.iat_us = statsKeys(`${p}_iat_us`);
  return k as DirectionKeys;
}

const FWD = directionKeys('fwd');
const BWD = directionKeys('bwd');
const FLOW_STATS = { iat: statsKeys('iat_us'), payload: statsKeys('payload_len'), active: statsKeys('active_us'), idle: statsKeys('idle_us') };

/** A -1 column ("not seen") as null. */
function optional(o: LineBuffer, v: number): void {
  if (v < 0) o.raw(NULL);
  else o.num(v);
}

function direction(o: LineBuffer, k: DirectionKeys, s: FlowRows, slot: number, fwd: boolean, tcp: boolean): void {
  const i = slot * CoreI.STRIDE + (fwd ? CoreI.FWD : CoreI.BWD);
  const f = slot * CoreF.STRIDE + (fwd ? CoreF.FWD : CoreF.BWD);
  const packets = s.i32[i + CoreDirI.PACKETS];
  const tcpWord = s.i32[i + CoreDirI.TCP];
  const seen = packets > 0;
  o.raw(k.payload_bytes).num(s.f64[f + CoreDirF.PAYLOAD_BYTES]);
  if (!s.full) {
    o.raw(k.header_bytes).num(0).raw(k.l4_header_bytes).num(0).raw(k.nonempty_packets).num(0)
      .raw(k.first_ts).raw(NULL).raw(k.last_ts).raw(NULL);
    o.raw(k.len[0]).num(packets).raw(k.len[1]).raw(NULL).raw(k.len[2]).raw(NULL).raw(k.len[3]).raw(NULL).raw(k.len[4]);
    if (seen) o.num(0);
    else o.raw(NULL);
    stats(o, k.payload_len, 0, 0, 0, 0, 0);
    stats(o, k.iat_us, 0, 0, 0, 0, 0);
    o.raw(k.tcp_flags).num(tcpWord & 0xff).raw(k.first_tcp_flags).num(0)
      .raw(k.syn_count).num(tcpCount(tcpWord, TcpCount.SYN)).raw(k.fin_count).num(tcpCount(tcpWord, TcpCount.FIN))
      .raw(k.rst_count).num(tcpCount(tcpWord, TcpCount.RST))
      .raw(k.psh_count).num(0).raw(k.ack_count).num(0).raw(k.urg_count).num(0).raw(k.ece_count).num(0).raw(k.cwr_count).num(0)
      .raw(k.init_window);
    if (tcp && seen) o.num(0);
    else o.raw(NULL);
    o.raw(k.tcp_mss).raw(NULL).raw(k.tcp_wscale).raw(NULL).raw(k.tcp_sack_ok).bool(false).raw(k.tcp_timestamps).bool(false)
      .raw(k.syn_ttl).raw(NULL).raw(k.l4_header_len_min);
    if (seen) o.num(0);
    else o.raw(NULL);
    o.raw(k.bulk_count).num(0).raw(k.bulk_bytes).num(0).raw(k.bulk_packets).num(0).raw(k.bulk_duration_us).num(0);
    return;
  }
  const sf = s.sf64, si = s.si32;
  const d = slot * StatF.STRIDE + (fwd ? StatF.FWD : StatF.BWD);
  const di = slot * StatI.STRIDE + (fwd ? StatI.FWD : StatI.BWD);
  const len = d + StatDirF.LEN;
  o.raw(k.header_bytes).num(sf[d + StatDirF.HEADER_BYTES]).raw(k.l4_header_bytes).num(sf[d + StatDirF.L4_HEADER_BYTES])
    .raw(k.nonempty_packets).num(si[di + StatDirI.NONEMPTY_PACKETS]).raw(k.first_ts);
  if (seen) o.seconds(sf[d + StatDirF.FIRST_US]).raw(k.last_ts).seconds(sf[d + StatDirF.LAST_US]);
  else o.raw(NULL).raw(k.last_ts).raw(NULL);
  stats(o, k.len, packets, sf[len + Mo.MIN], sf[len + Mo.MAX], sf[len + Mo.MEAN], sf[len + Mo.M2]);
  moments(o, k.payload_len, sf, d + StatDirF.PAYLOAD_LEN);
  moments(o, k.iat_us, sf, d + StatDirF.IAT);
  o.raw(k.tcp_flags).num(tcpWord & 0xff).raw(k.first_tcp_flags).num(si[di + StatDirI.FIRST_TCP_FLAGS])
    .raw(k.syn_count).num(si[di + StatDirI.SYN]).raw(k.fin_count).num(si[di + StatDirI.FIN]).raw(k.rst_count).num(si[di + StatDirI.RST])
    .raw(k.psh_count).num(si[di + StatDirI.PSH]).raw(k.ack_count).num(si[di + StatDirI.ACK]).raw(k.urg_count).num(si[di + StatDirI.URG])
    .raw(k.ece_count).num(si[di + StatDirI.ECE]).raw(k.cwr_count).num(si[di + StatDirI.CWR]).raw(k.init_window);
  if (tcp && seen) o.num(Math.max(0, si[di + StatDirI.INIT_WINDOW]));
  else o.raw(NULL);
  o.raw(k.tcp_mss);
  optional(o, si[di + StatDirI.TCP_MSS]);
  o.raw(k.tcp_wscale);
  optional(o, si[di + StatDirI.TCP_WSCALE]);
  o.raw(k.tcp_sack_ok).bool(si[di + StatDirI.TCP_SACK_OK] === 1).raw(k.tcp_timestamps).bool(si[di + StatDirI.TCP_TIMESTAMPS] === 1)
    .raw(k.syn_ttl);
  optional(o, si[di + StatDirI.SYN_TTL]);
  o.raw(k.l4_header_len_min);
  if (seen) o.num(si[di + StatDirI.L4_HEADER_LEN_MIN]);
  else o.raw(NULL);
  o.raw(k.bulk_count).num(si[di + StatDirI.BULK_COUNT]).raw(k.bulk_bytes).num(sf[d + StatDirF.BULK_BYTES])
    .raw(k.bulk_packets).num(si[di + StatDirI.BULK_PACKETS]).raw(k.bulk_duration_us).num(sf[d + StatDirF.BULK_DURATION_US]);
}

/** The flow-level statistics: gaps, payload lengths, activity and idle periods. */
function flowStats(o: LineBuffer, s: FlowRows, slot: number, lastUs: number): void {
  if (!s.full) {
    stats(o, FLOW_STATS.iat, 0, 0, 0, 0, 0);
    stats(o, FLOW_STATS.payload, 0, 0, 0, 0, 0);
    stats(o, FLOW_STATS.active, 0, 0, 0, 0, 0);
    stats(o, FLOW_STATS.idle, 0, 0, 0, 0, 0);
    return;
  }
  const sf = s.sf64, sb = slot * StatF.STRIDE;
  moments(o, FLOW_STATS.iat, sf, sb + StatF.IAT);
  moments(o, FLOW_STATS.payload, sf, sb + StatF.PAYLOAD_LEN);
  // The last activity period is still open: close it for this record (CICFlowMeter never does).
  const openPeriod = lastUs - sf[sb + StatF.ACTIVE_START_US];
  if (openPeriod > 0) momentsPlus(o, FLOW_STATS.active, sf, sb + StatF.ACTIVE, openPeriod);
  else moments(o, FLOW_STATS.active, sf, sb + StatF.ACTIVE);
  moments(o, FLOW_STATS.idle, sf, sb + StatF.IDLE);
}

const K = {
  flowId: fragment('{"flow_id":'), recordSeq: fragment(',"record_seq":'),
  interim: fragment(',"record_type":"interim","community_id":"'), final: fragment(',"record_type":"final","community_id":"'),
  srcIp: fragment('","src_ip":"'), srcPort: fragment('","src_port":'), dstIp: fragment(',"dst_ip":"'),
  dstPort: fragment('","dst_port":'), proto: fragment(',"proto":'), ipVersion: fragment(',"ip_version":'),
  vlan: fragment(',"vlan":'), tunnel: fragment(',"tunnel":'), tunnelId: fragment(',"tunnel_id":'),
  firstTs: fragment(',"first_ts":'), lastTs: fragment(',"last_ts":'), durationUs: fragment(',"duration_us":'),
  fwdPackets: fragment(',"fwd_packets":'), bwdPackets: fragment(',"bwd_packets":'),
  fwdIpBytes: fragment(',"fwd_ip_bytes":'), bwdIpBytes: fragment(',"bwd_ip_bytes":'), tcpFlags: fragment(',"tcp_flags":'),
  endReason: fragment(',"end_reason":"'), connState: fragment('","conn_state":'), subflowCount: fragment(',"subflow_count":'),
  icmpErrors: fragment(',"icmp_errors":'), tsRegressions: fragment(',"ts_regressions":'),
  earlySizes: fragment(',"early_sizes":['), earlyGaps: fragment('],"early_gaps_us":['), earlyEnd: fragment(']'),
  comma: fragment(','), quote: fragment('"'),
  noApp: fragment(',"dns_query":null,"dns_qtype":null,"dns_rcode":null,"dns_answers":null,"tls_sni":null,' +
    '"tls_alpn":null,"tls_version":null,"ja4":null,"http_method":null,"http_host":null,"http_user_agent":null,' +
    '"quic_version":null}'),
};

/** The numbers in a[at, at + n), comma-separated. */
function numberList(o: LineBuffer, a: Int32Array | Float64Array, at: number, n: number): void {
  for (let k = 0; k < n; k++) {
    if (k > 0) o.raw(K.comma);
    o.num(a[at + k]);
  }
}

/** A string as JSON, null when absent or empty. */
function text(v: string | undefined): string {
  return v ? JSON.stringify(v) : 'null';
}

function list(v: string[] | undefined): string {
  return v?.length ? JSON.stringify(v) : 'null';
}

/** The application names (rare: a few flows in a hundred have any) and the closing brace. */
function app(o: LineBuffer, a: AppNames | undefined): void {
  if (a === undefined) {
    o.raw(K.noApp);
    return;
  }
  o.utf8(`,"dns_query":${text(a.dnsQuery)},"dns_qtype":${a.dnsQtype ?? null},"dns_rcode":${a.dnsRcode ?? null}` +
    `,"dns_answers":${list(a.dnsAnswers)},"tls_sni":${text(a.tlsSni)},"tls_alpn":${list(a.tlsAlpn)}` +
    `,"tls_version":${a.tlsVersion ?? null},"ja4":${text(a.ja4)},"http_method":${text(a.httpMethod)}` +
    `,"http_host":${text(a.httpHost)},"http_user_agent":${text(a.httpUserAgent)},"quic_version":${a.quicVersion ?? null}}`);
}

/** Appends the flow in `slot` of `s`, which left the table for `reason`, as one JSON object (no newline). */
export function writeFlowJson(o: LineBuffer, s: FlowRows, slot: number, reason: EndReasonValue): void {
  const i32 = s.i32, f64 = s.f64, b = slot * CoreI.STRIDE, fb = slot * CoreF.STRIDE;
  const meta = i32[b + CoreI.META];
  const protocol = meta & 0xff, ipVersion = (meta >>> 8) & 0xf, tunnel = TUNNEL_NAMES[(meta >>> 12) & 0xf];
  const src = addressBytes(i32, b + CoreI.A_ADDR, ipVersion);
  const dst = addressBytes(i32, b + CoreI.B_ADDR, ipVersion);
  const vlan = i32[b + CoreI.VLAN];
  const tunnelId = i32[b + CoreI.TUNNEL_ID];
  const firstUs = f64[fb + CoreF.FIRST_US], lastUs = f64[fb + CoreF.LAST_US];
  const tcp = protocol === 6;
  const full = s.full;
  o.raw(K.flowId).num(f64[fb + CoreF.FLOW_ID]).raw(K.recordSeq).num(i32[b + CoreI.RECORD_SEQ])
    .raw(reason === EndReason.END_REASON_ACTIVE ? K.interim : K.final).ascii(rowCommunityId(i32, slot, src, dst))
    .raw(K.srcIp).ascii(formatAddress(src)).raw(K.srcPort).num(recordSrcPort(i32, slot))
    .raw(K.dstIp).ascii(formatAddress(dst)).raw(K.dstPort).num(recordDstPort(i32, slot))
    .raw(K.proto).num(protocol).raw(K.ipVersion).num(ipVersion).raw(K.vlan);
  if (vlan >= 0) o.num(vlan);
  else o.raw(NULL);
  o.raw(K.tunnel);
  if (tunnel) o.raw(K.quote).ascii(tunnel).raw(K.quote);
  else o.raw(NULL);
  o.raw(K.tunnelId);
  optional(o, tunnelId);
  o.raw(K.firstTs).seconds(firstUs).raw(K.lastTs).seconds(lastUs).raw(K.durationUs).num(lastUs - firstUs)
    .raw(K.fwdPackets).num(i32[b + CoreI.FWD + CoreDirI.PACKETS]).raw(K.bwdPackets).num(i32[b + CoreI.BWD + CoreDirI.PACKETS])
    .raw(K.fwdIpBytes).num(f64[fb + CoreF.FWD + CoreDirF.IP_BYTES]).raw(K.bwdIpBytes).num(f64[fb + CoreF.BWD + CoreDirF.IP_BYTES])
    .raw(K.tcpFlags).num((i32[b + CoreI.FWD + CoreDirI.TCP] | i32[b + CoreI.BWD + CoreDirI.TCP]) & 0xff)
    .raw(K.endReason).ascii(END_REASON_NAMES[reason] ?? 'unspecified').raw(K.connState);
  if (tcp) o.raw(K.quote).ascii(connState(i32, slot)).raw(K.quote);
  else o.raw(NULL);
  o.raw(K.subflowCount).num(full ? s.si32[slot * StatI.STRIDE + StatI.SUBFLOWS] : 0)
    .raw(K.icmpErrors).num(i32[b + CoreI.ICMP_ERRORS])
    .raw(K.tsRegressions).num(full ? s.si32[slot * StatI.STRIDE + StatI.TS_REGRESSIONS] : 0);
  direction(o, FWD, s, slot, true, tcp);
  direction(o, BWD, s, slot, false, tcp);
  flowStats(o, s, slot, lastUs);
  const n = full ? s.si32[slot * StatI.STRIDE + StatI.EARLY_COUNT] : 0;
  const at = slot * s.earlyPackets;
  o.raw(K.earlySizes);
  numberList(o, s.earlySizes, at, n);
  o.raw(K.earlyGaps);
  numberList(o, s.earlyGapsUs, at, n);
  o.raw(K.earlyEnd);
  app(o, s.app.get(slot));
}

const scratch = new LineBuffer();

/** The flow's JSON line as a string (without the newline). */
export function flowJsonLine(s: FlowRows, slot: number, reason: EndReasonValue): string {
  writeFlowJson(scratch, s, slot, reason);
  return scratch.takeText();
}
