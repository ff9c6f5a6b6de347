// The JSON form of a flow record (one object per line in --jsonl): a stable interface that scripts
// rely on. src is the initiator, times are seconds since the epoch (float), lengths are IP total
// lengths, durations and gaps are µs, std is the sample standard deviation (n - 1), and a value that
// does not apply is null, never 0, -1, NaN or Infinity. docs/features.md lists every field.
import { TUNNEL_NAMES } from '../decode/packet-meta';
import {
  END_REASON_NAMES, formatAddress, type IDirectionStats, type IFlowRecord, type IStats,
} from '../../proto';

export function sampleStd(m2: number, n: number): number {
  return n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
}

// Field names are built once per prefix, not per record (this runs for every flow record).
const STATS_SUFFIXES = ['n', 'min', 'max', 'mean', 'std'] as const;
type StatsKeys = readonly [string, string, string, string, string];
const statsKeyCache = new Map<string, StatsKeys>();
function statsKeys(prefix: string): StatsKeys {
  let k = statsKeyCache.get(prefix);
  if (!k) statsKeyCache.set(prefix, (k = STATS_SUFFIXES.map((s) => `${prefix}_${s}`) as unknown as StatsKeys));
  return k;
}

/** min/max/mean/std of a Stats message under `prefix`, null when there were no samples. */
function stats(keys: StatsKeys, s: IStats | null | undefined, out: JsonLine): void {
  const n = Number(s?.n ?? 0);
  out.put(keys[0], n);
  out.put(keys[1], n > 0 ? s!.min : null);
  out.put(keys[2], n > 0 ? s!.max : null);
  out.put(keys[3], n > 0 ? s!.mean : null);
  out.put(keys[4], n > 0 ? sampleStd(s!.m2 ?? 0, n) : null);
}

const DIRECTION_FIELDS = [
  'payload_bytes', 'header_bytes', 'l4_header_bytes', 'nonempty_packets', 'first_ts', 'last_ts', 'tcp_flags',
  'first_tcp_flags', 'syn_count', 'fin_count', 'rst_count', 'psh_count', 'ack_count', 'urg_count',
  'ece_count', 'cwr_count', 'init_window', 'tcp_mss', 'tcp_wscale', 'tcp_sack_ok', 'tcp_timestamps',
  'syn_ttl', 'l4_header_len_min', 'bulk_count', 'bulk_bytes', 'bulk_packets', 'bulk_duration_us',
] as const;

type DirectionKeys = Record<(typeof DIRECTION_FIELDS)[number], string> &
  { len: StatsKeys; payload_len: StatsKeys; iat_us: StatsKeys };

function directionKeys(p: string): DirectionKeys {
  const k = Object.fromEntries(DIRECTION_FIELDS.map((f) => [f, `${p}_${f}`])) as Record<string, unknown>;
  k.len = statsKeys(`${p}_len`);
  k.payload_len = statsKeys(`${p}_payload_len`);
  k.iat_us = statsKeys(`${p}_iat_us`);
  return k as DirectionKeys;
}

const FWD = directionKeys('fwd');
const BWD = directionKeys('bwd');
const FLOW_STATS = { iat: statsKeys('iat_us'), payload: statsKeys('payload_len'), active: statsKeys('active_us'), idle: statsKeys('idle_us') };

function direction(k: DirectionKeys, d: IDirectionStats, tcp: boolean, out: JsonLine): void {
  const packets = Number(d.packets ?? 0);
  out.put(k.payload_bytes, Number(d.payloadBytes ?? 0));
  out.put(k.header_bytes, Number(d.headerBytes ?? 0));
  out.put(k.l4_header_bytes, Number(d.l4HeaderBytes ?? 0));
  out.put(k.nonempty_packets, Number(d.nonemptyPackets ?? 0));
  out.put(k.first_ts, packets > 0 ? Number(d.firstUs) / 1e6 : null);
  out.put(k.last_ts, packets > 0 ? Number(d.lastUs) / 1e6 : null);
  stats(k.len, { n: packets, min: d.lenMin, max: d.lenMax, mean: d.lenMean, m2: d.lenM2 }, out);
  stats(k.payload_len, d.payloadLen, out);
  stats(k.iat_us, { n: d.iatCount, min: Number(d.iatMinUs ?? 0), max: Number(d.iatMaxUs ?? 0), mean: d.iatMeanUs, m2: d.iatM2Us }, out);
  out.put(k.tcp_flags, d.tcpFlags ?? 0);
  out.put(k.first_tcp_flags, d.firstTcpFlags ?? 0);
  out.put(k.syn_count, d.synCount ?? 0);
  out.put(k.fin_count, d.finCount ?? 0);
  out.put(k.rst_count, d.rstCount ?? 0);
  out.put(k.psh_count, d.pshCount ?? 0);
  out.put(k.ack_count, d.ackCount ?? 0);
  out.put(k.urg_count, d.urgCount ?? 0);
  out.put(k.ece_count, d.eceCount ?? 0);
  out.put(k.cwr_count, d.cwrCount ?? 0);
  out.put(k.init_window, tcp && packets > 0 ? d.initWindow ?? 0 : null);
  out.put(k.tcp_mss, d.tcpMss ?? null);
  out.put(k.tcp_wscale, d.tcpWscale ?? null);
  out.put(k.tcp_sack_ok, d.tcpSackOk ?? false);
  out.put(k.tcp_timestamps, d.tcpTimestamps ?? false);
  out.put(k.syn_ttl, d.synTtl ?? null);
  out.put(k.l4_header_len_min, packets > 0 ? d.l4HeaderLenMin ?? 0 : null);
  out.put(k.bulk_count, Number(d.bulkCount ?? 0));
  out.put(k.bulk_bytes, Number(d.bulkBytes ?? 0));
  out.put(k.bulk_packets, Number(d.bulkPackets ?? 0));
  out.put(k.bulk_duration_us, Number(d.bulkDurationUs ?? 0));
}

/** One JSON object, written straight to a string: key by key, with no object built and stringified. */
class JsonLine {
  private s = '';

  put(key: string, v: unknown): void {
    this.s += `${this.s === '' ? '{"' : ',"'}${key}":${encode(v)}`;
  }

  end(): string {
    return this.s === '' ? '{}' : `${this.s}}`;
  }
}

function encode(v: unknown): string {
  switch (typeof v) {
    case 'number': return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean': return v ? 'true' : 'false';
    case 'undefined': return 'null';
    default: return v === null ? 'null' : JSON.stringify(v);
  }
}

/** The record as one JSON line (what --jsonl writes). Building the object and stringifying it took a third of the offline meter's time. */
export function flowToJsonLine(r: IFlowRecord): string {
  const fwd = r.fwd ?? {};
  const bwd = r.bwd ?? {};
  const app = r.app ?? {};
  const out = new JsonLine();
  out.put('flow_id', Number(r.flowId ?? 0));
  out.put('record_seq', r.recordSeq ?? 0);
  out.put('record_type', r.recordType === 2 ? 'interim' : 'final');
  out.put('community_id', r.communityId ?? '');
  out.put('src_ip', formatAddress(r.srcAddr ?? new Uint8Array(0)));
  out.put('src_port', r.srcPort ?? 0);
  out.put('dst_ip', formatAddress(r.dstAddr ?? new Uint8Array(0)));
  out.put('dst_port', r.dstPort ?? 0);
  out.put('proto', r.protocol ?? 0);
  out.put('ip_version', r.ipVersion ?? 0);
  out.put('vlan', r.hasVlan ? r.vlanId : null);
  out.put('tunnel', TUNNEL_NAMES[r.tunnelType ?? 0] || null);
  out.put('tunnel_id', r.tunnelId ?? null);
  out.put('first_ts', Number(r.firstUs ?? 0) / 1e6);
  out.put('last_ts', Number(r.lastUs ?? 0) / 1e6);
  out.put('duration_us', Number(r.lastUs ?? 0) - Number(r.firstUs ?? 0));
  out.put('fwd_packets', Number(fwd.packets ?? 0));
  out.put('bwd_packets', Number(bwd.packets ?? 0));
  out.put('fwd_ip_bytes', Number(fwd.ipBytes ?? 0));
  out.put('bwd_ip_bytes', Number(bwd.ipBytes ?? 0));
  out.put('tcp_flags', (fwd.tcpFlags ?? 0) | (bwd.tcpFlags ?? 0));
  out.put('end_reason', END_REASON_NAMES[r.endReason ?? 0] ?? 'unspecified');
  out.put('conn_state', r.connState || null);
  out.put('subflow_count', r.subflowCount ?? 0);
  out.put('icmp_errors', r.icmpErrors ?? 0);
  out.put('ts_regressions', r.tsRegressions ?? 0);
  const tcp = r.protocol === 6;
  direction(FWD, fwd, tcp, out);
  direction(BWD, bwd, tcp, out);
  stats(FLOW_STATS.iat, r.iatUs, out);
  stats(FLOW_STATS.payload, r.payloadLen, out);
  stats(FLOW_STATS.active, r.activeUs, out);
  stats(FLOW_STATS.idle, r.idleUs, out);
  out.put('early_sizes', (r.earlySizes ?? []).map(Number));
  out.put('early_gaps_us', (r.earlyGapsUs ?? []).map(Number));
  out.put('dns_query', app.dnsQuery || null);
  out.put('dns_qtype', app.dnsQtype ?? null);
  out.put('dns_rcode', app.dnsRcode ?? null);
  out.put('dns_answers', app.dnsAnswers?.length ? app.dnsAnswers : null);
  out.put('tls_sni', app.tlsSni || null);
  out.put('tls_alpn', app.tlsAlpn?.length ? app.tlsAlpn : null);
  out.put('tls_version', app.tlsVersion ?? null);
  out.put('ja4', app.ja4 || null);
  out.put('http_method', app.httpMethod || null);
  out.put('http_host', app.httpHost || null);
  out.put('http_user_agent', app.httpUserAgent || null);
  out.put('quic_version', app.quicVersion ?? null);
  return out.end();
}
