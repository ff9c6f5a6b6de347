// Semantic validation of a decoded FlowBatch, producing the FlowRows the store keeps. Pure: no I/O,
// no throw for bad input; the first problem found is returned as a message naming the flow index and
// the field (`flows[3].src_addr: ...`), which ingest sends back as Error{INVALID_BATCH}.
import {
  END_REASON_NAMES, formatAddress, RecordType, type IAppInfo, type IDirectionStats, type IFlowBatch, type IFlowRecord,
} from '../../proto';
import type { BatchRecord, DirectionStats, FlowRow } from '../model';

export interface BatchContext {
  agentId: string;
  /** boot_id from this connection's Hello (a batch may carry an earlier one of the same agent) */
  bootId: string;
  /** wall clock at receipt, µs */
  receivedUs: number;
}

export interface ValidationLimits {
  maxFlowsPerBatch: number;
  /** flow timestamps later than receivedUs + this are implausible */
  maxClockSkewUs: number;
}

export type ValidationResult = { ok: true; batch: BatchRecord } | { ok: false; message: string };

/** Earliest plausible flow time: 1990-01-01T00:00:00Z (old public captures predate 2000). */
export const MIN_PLAUSIBLE_US = 631_152_000_000_000;

const MAX_U32 = 0xffff_ffff;
const MAX_BOOT_ID_CHARS = 128;

/**
 * uint64 fields arrive as numbers, except that an ABSENT field reads the generated prototype's default,
 * which protobufjs built as a Long object before proto/index.ts switched Long off. Accept both.
 * Returns NaN for anything else and for values past 2^53 (not exactly representable).
 */
export function u64(v: unknown): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
  if (v === null || v === undefined) return 0;
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number };
    const n = (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

function u32(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_U32 ? v : NaN;
}

function f64(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' && Number.isFinite(v) ? v : NaN;
}

const ZERO_STATS: Readonly<DirectionStats> = Object.freeze({
  packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
  pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
  iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0,
});

/** Wire field name of each DirectionStats member, for error messages. */
const STATS_FIELDS: ReadonlyArray<[keyof DirectionStats, string, (v: unknown) => number]> = [
  ['packets', 'packets', u64], ['ipBytes', 'ip_bytes', u64], ['payloadBytes', 'payload_bytes', u64],
  ['headerBytes', 'header_bytes', u64], ['tcpFlags', 'tcp_flags', u32], ['synCount', 'syn_count', u32],
  ['finCount', 'fin_count', u32], ['rstCount', 'rst_count', u32], ['pshCount', 'psh_count', u32],
  ['ackCount', 'ack_count', u32], ['urgCount', 'urg_count', u32], ['initWindow', 'init_window', u32],
  ['lenMin', 'len_min', u32], ['lenMax', 'len_max', u32], ['lenMean', 'len_mean', f64], ['lenM2', 'len_m2', f64],
  ['iatCount', 'iat_count', u64], ['iatMinUs', 'iat_min_us', u64], ['iatMaxUs', 'iat_max_us', u64],
  ['iatMeanUs', 'iat_mean_us', f64], ['iatM2Us', 'iat_m2_us', f64],
];

function convertStats(s: IDirectionStats, at: string): DirectionStats | string {
  const out = { ...ZERO_STATS };
  const src = s as Record<string, unknown>;
  for (const [key, wire, conv] of STATS_FIELDS) {
    const v = conv(src[key]);
    if (Number.isNaN(v)) return `${at}.${wire}: not a valid number (${String(src[key])})`;
    out[key] = v;
  }
  if (out.tcpFlags > 0xffff) return `${at}.tcp_flags: ${out.tcpFlags} is not a TCP flag set`;
  return out;
}

const MAX_NAME = 255;
const MAX_LIST = 8;

/** The application names of a flow as a plain object, strings and lists bounded; null when there are none. */
function appNames(a: IAppInfo | null | undefined): Record<string, unknown> | null {
  if (!a) return null;
  const out: Record<string, unknown> = {};
  const text = (key: string, v: string | null | undefined): void => { if (v) out[key] = v.slice(0, MAX_NAME); };
  const num = (key: string, v: number | null | undefined): void => { if (typeof v === 'number' && Number.isFinite(v)) out[key] = v; };
  const list = (key: string, v: string[] | null | undefined): void => {
    if (v?.length) out[key] = v.slice(0, MAX_LIST).map((x) => String(x).slice(0, MAX_NAME));
  };
  text('dns_query', a.dnsQuery);
  num('dns_qtype', a.dnsQtype);
  num('dns_rcode', a.dnsRcode);
  list('dns_answers', a.dnsAnswers);
  text('tls_sni', a.tlsSni);
  list('tls_alpn', a.tlsAlpn);
  num('tls_version', a.tlsVersion);
  text('ja4', a.ja4);
  text('http_method', a.httpMethod);
  text('http_host', a.httpHost);
  text('http_user_agent', a.httpUserAgent);
  num('quic_version', a.quicVersion);
  return Object.keys(out).length ? out : null;
}

function addressProblem(addr: Uint8Array | null | undefined, at: string): string | undefined {
  const n = addr?.length ?? 0;
  if (n !== 4 && n !== 16) return `${at}: length ${n} bytes, want 4 (IPv4) or 16 (IPv6)`;
  return undefined;
}

function validateFlow(f: IFlowRecord, i: number, ctx: BatchContext, seq: number, limits: ValidationLimits): FlowRow | string {
  const at = `flows[${i}]`;
  const bad =
    addressProblem(f.srcAddr, `${at}.src_addr`) ?? addressProblem(f.dstAddr, `${at}.dst_addr`);
  if (bad) return bad;
  const src = f.srcAddr as Uint8Array;
  const dst = f.dstAddr as Uint8Array;
  if (src.length !== dst.length) {
    return `${at}.dst_addr: ${dst.length === 4 ? 'IPv4' : 'IPv6'} but src_addr is ${src.length === 4 ? 'IPv4' : 'IPv6'}`;
  }
  const srcPort = u32(f.srcPort);
  if (!(srcPort <= 65535)) return `${at}.src_port: ${String(f.srcPort)} is over 65535`;
  const dstPort = u32(f.dstPort);
  if (!(dstPort <= 65535)) return `${at}.dst_port: ${String(f.dstPort)} is over 65535`;
  const proto = u32(f.protocol);
  if (!(proto <= 255)) return `${at}.protocol: ${String(f.protocol)} is over 255`;
  const vlanId = u32(f.vlanId);
  if (f.hasVlan && !(vlanId <= 4095)) return `${at}.vlan_id: ${String(f.vlanId)} is over 4095`;

  const latest = ctx.receivedUs + limits.maxClockSkewUs;
  const firstUs = u64(f.firstUs);
  if (Number.isNaN(firstUs)) return `${at}.first_us: not a valid timestamp`;
  if (firstUs < MIN_PLAUSIBLE_US || firstUs > latest) {
    return `${at}.first_us: ${firstUs} is not a plausible time (µs since 1970, between 1990 and now + max_clock_skew_secs)`;
  }
  const lastUs = u64(f.lastUs);
  if (Number.isNaN(lastUs)) return `${at}.last_us: not a valid timestamp`;
  if (lastUs < firstUs) return `${at}.last_us: ${lastUs} is before first_us ${firstUs}`;
  if (lastUs > latest) return `${at}.last_us: ${lastUs} is in the future (more than max_clock_skew_secs past now)`;

  const flowId = u64(f.flowId);
  if (Number.isNaN(flowId)) return `${at}.flow_id: not a valid number`;

  if (!f.fwd && !f.bwd) return `${at}: fwd and bwd are both missing (packet counts are required)`;
  const fwd = f.fwd ? convertStats(f.fwd, `${at}.fwd`) : { ...ZERO_STATS };
  if (typeof fwd === 'string') return fwd;
  const bwd = f.bwd ? convertStats(f.bwd, `${at}.bwd`) : { ...ZERO_STATS };
  if (typeof bwd === 'string') return bwd;
  if (fwd.packets + bwd.packets === 0) return `${at}.fwd.packets: fwd.packets + bwd.packets is 0`;

  const reason = u32(f.endReason);
  const recordSeq = u32(f.recordSeq);
  if (Number.isNaN(recordSeq)) return `${at}.record_seq: not a valid number`;
  return {
    agentId: ctx.agentId,
    bootId: ctx.bootId,
    seq,
    flowId,
    recordSeq,
    recordType: f.recordType === RecordType.RECORD_TYPE_INTERIM ? 'interim' : 'final',
    communityId: typeof f.communityId === 'string' ? f.communityId.slice(0, 64) : '',
    connState: typeof f.connState === 'string' ? f.connState.slice(0, 8) : '',
    app: appNames(f.app),
    srcIp: formatAddress(src),
    dstIp: formatAddress(dst),
    srcPort,
    dstPort,
    proto,
    vlan: f.hasVlan ? vlanId : null,
    firstUs,
    lastUs,
    endReason: END_REASON_NAMES[reason] ?? `reason_${reason}`,
    fwd,
    bwd,
  };
}

export function validateBatch(b: IFlowBatch, ctx: BatchContext, limits: ValidationLimits): ValidationResult {
  const seq = u64(b.seq);
  if (!(seq >= 1)) return { ok: false, message: `seq: must be an integer >= 1 (got ${String(b.seq ?? 0)})` };
  // A batch may come from an earlier run of the agent (resent from its disk spool), so its boot_id need
  // not be this connection's; the batch key (agent, boot_id, seq) stays what the agent first gave it.
  const bootId = b.bootId ?? '';
  if (bootId.length === 0 || bootId.length > MAX_BOOT_ID_CHARS) {
    return { ok: false, message: `boot_id: must be 1–${MAX_BOOT_ID_CHARS} characters (got ${bootId.length})` };
  }
  const batchCtx = bootId === ctx.bootId ? ctx : { ...ctx, bootId };
  const flows = b.flows ?? [];
  if (flows.length > limits.maxFlowsPerBatch) {
    return { ok: false, message: `flows: ${flows.length} flows, more than max_flows_per_batch ${limits.maxFlowsPerBatch}` };
  }
  const rows: FlowRow[] = new Array(flows.length);
  for (let i = 0; i < flows.length; i++) {
    const r = validateFlow(flows[i], i, batchCtx, seq, limits);
    if (typeof r === 'string') return { ok: false, message: r };
    rows[i] = r;
  }
  return { ok: true, batch: { agentId: ctx.agentId, bootId, seq, receivedUs: ctx.receivedUs, flows: rows } };
}
