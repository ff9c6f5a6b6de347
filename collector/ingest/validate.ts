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

function zeroStats(): DirectionStats {
  return {
    packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
    pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
    iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0,
  };
}

/** Wire field name of each DirectionStats member, for error messages. */
const STATS_FIELDS: ReadonlyArray<[keyof DirectionStats, string]> = [
  ['packets', 'packets'], ['ipBytes', 'ip_bytes'], ['payloadBytes', 'payload_bytes'], ['headerBytes', 'header_bytes'],
  ['tcpFlags', 'tcp_flags'], ['synCount', 'syn_count'], ['finCount', 'fin_count'], ['rstCount', 'rst_count'],
  ['pshCount', 'psh_count'], ['ackCount', 'ack_count'], ['urgCount', 'urg_count'], ['initWindow', 'init_window'],
  ['lenMin', 'len_min'], ['lenMax', 'len_max'], ['lenMean', 'len_mean'], ['lenM2', 'len_m2'], ['iatCount', 'iat_count'],
  ['iatMinUs', 'iat_min_us'], ['iatMaxUs', 'iat_max_us'], ['iatMeanUs', 'iat_mean_us'], ['iatM2Us', 'iat_m2_us'],
];

/**
 * Converts in one object literal (one shape, no per-field lookups: this runs twice per flow); a field
 * that is not a valid number converts to NaN, and only then are the fields searched for the message.
 */
function convertStats(s: IDirectionStats, at: string): DirectionStats | string {
  const out: DirectionStats = {
    packets: u64(s.packets), ipBytes: u64(s.ipBytes), payloadBytes: u64(s.payloadBytes), headerBytes: u64(s.headerBytes),
    tcpFlags: u32(s.tcpFlags), synCount: u32(s.synCount), finCount: u32(s.finCount), rstCount: u32(s.rstCount),
    pshCount: u32(s.pshCount), ackCount: u32(s.ackCount), urgCount: u32(s.urgCount), initWindow: u32(s.initWindow),
    lenMin: u32(s.lenMin), lenMax: u32(s.lenMax), lenMean: f64(s.lenMean), lenM2: f64(s.lenM2), iatCount: u64(s.iatCount),
    iatMinUs: u64(s.iatMinUs), iatMaxUs: u64(s.iatMaxUs), iatMeanUs: f64(s.iatMeanUs), iatM2Us: f64(s.iatM2Us),
  };
  const sum = out.packets + out.ipBytes + out.payloadBytes + out.headerBytes + out.tcpFlags + out.synCount + out.finCount +
    out.rstCount + out.pshCount + out.ackCount + out.urgCount + out.initWindow + out.lenMin + out.lenMax + out.lenMean +
    out.lenM2 + out.iatCount + out.iatMinUs + out.iatMaxUs + out.iatMeanUs + out.iatM2Us;
  if (Number.isNaN(sum)) {
    const src = s as Record<string, unknown>;
    for (const [key, wire] of STATS_FIELDS) {
      if (Number.isNaN(out[key])) return `${at}.${wire}: not a valid number (${String(src[key])})`;
    }
  }
  if (out.tcpFlags > 0xffff) return `${at}.tcp_flags: ${out.tcpFlags} is not a TCP flag set`;
  return out;
}

const MAX_NAME = 255;
const MAX_LIST = 8;

function text(out: Record<string, unknown>, key: string, v: string | null | undefined): void {
  if (v) out[key] = v.slice(0, MAX_NAME);
}

function num(out: Record<string, unknown>, key: string, v: number | null | undefined): void {
  if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
}

function list(out: Record<string, unknown>, key: string, v: string[] | null | undefined): void {
  if (v?.length) out[key] = v.slice(0, MAX_LIST).map((x) => String(x).slice(0, MAX_NAME));
}

/** The application names of a flow as a plain object, strings and lists bounded; null when there are none. */
function appNames(a: IAppInfo | null | undefined): Record<string, unknown> | null {
  if (!a) return null;
  const out: Record<string, unknown> = {};
  text(out, 'dns_query', a.dnsQuery);
  num(out, 'dns_qtype', a.dnsQtype);
  num(out, 'dns_rcode', a.dnsRcode);
  list(out, 'dns_answers', a.dnsAnswers);
  text(out, 'tls_sni', a.tlsSni);
  list(out, 'tls_alpn', a.tlsAlpn);
  num(out, 'tls_version', a.tlsVersion);
  text(out, 'ja4', a.ja4);
  text(out, 'http_method', a.httpMethod);
  text(out, 'http_host', a.httpHost);
  text(out, 'http_user_agent', a.httpUserAgent);
  num(out, 'quic_version', a.quicVersion);
  for (const _ in out) return out;
  return null;
}

function addressProblem(addr: Uint8Array | null | undefined, at: string): string | undefined {
  const n = addr?.length ?? 0;
  if (n !== 4 && n !== 16) return `${at}: length ${n} bytes, want 4 (IPv4) or 16 (IPv6)`;
  return undefined;
}

/** Error messages name the flow as flows[i]; built only for a flow that has a problem. */
function validateFlow(f: IFlowRecord, i: number, ctx: BatchContext, seq: number, limits: ValidationLimits): FlowRow | string {
  const badAddr = addressProblem(f.srcAddr, 'src_addr') ?? addressProblem(f.dstAddr, 'dst_addr');
  if (badAddr) return `flows[${i}].${badAddr}`;
  const r = validFlow(f, ctx, seq, limits);
  return typeof r === 'string' ? `flows[${i}]${r}` : r;
}

/** A problem comes back as its message after `flows[i]` (so starting with '.' or ':'). */
function validFlow(f: IFlowRecord, ctx: BatchContext, seq: number, limits: ValidationLimits): FlowRow | string {
  const src = f.srcAddr as Uint8Array;
  const dst = f.dstAddr as Uint8Array;
  if (src.length !== dst.length) {
    return `.dst_addr: ${dst.length === 4 ? 'IPv4' : 'IPv6'} but src_addr is ${src.length === 4 ? 'IPv4' : 'IPv6'}`;
  }
  const srcPort = u32(f.srcPort);
  if (!(srcPort <= 65535)) return `.src_port: ${String(f.srcPort)} is over 65535`;
  const dstPort = u32(f.dstPort);
  if (!(dstPort <= 65535)) return `.dst_port: ${String(f.dstPort)} is over 65535`;
  const proto = u32(f.protocol);
  if (!(proto <= 255)) return `.protocol: ${String(f.protocol)} is over 255`;
  const vlanId = u32(f.vlanId);
  if (f.hasVlan && !(vlanId <= 4095)) return `.vlan_id: ${String(f.vlanId)} is over 4095`;

  const latest = ctx.receivedUs + limits.maxClockSkewUs;
  const firstUs = u64(f.firstUs);
  if (Number.isNaN(firstUs)) return `.first_us: not a valid timestamp`;
  if (firstUs < MIN_PLAUSIBLE_US || firstUs > latest) {
    return `.first_us: ${firstUs} is not a plausible time (µs since 1970, between 1990 and now + max_clock_skew_secs)`;
  }
  const lastUs = u64(f.lastUs);
  if (Number.isNaN(lastUs)) return `.last_us: not a valid timestamp`;
  if (lastUs < firstUs) return `.last_us: ${lastUs} is before first_us ${firstUs}`;
  if (lastUs > latest) return `.last_us: ${lastUs} is in the future (more than max_clock_skew_secs past now)`;

  const flowId = u64(f.flowId);
  if (Number.isNaN(flowId)) return `.flow_id: not a valid number`;

  if (!f.fwd && !f.bwd) return `: fwd and bwd are both missing (packet counts are required)`;
  const fwd = f.fwd ? convertStats(f.fwd, '.fwd') : zeroStats();
  if (typeof fwd === 'string') return fwd;
  const bwd = f.bwd ? convertStats(f.bwd, '.bwd') : zeroStats();
  if (typeof bwd === 'string') return bwd;
  if (fwd.packets + bwd.packets === 0) return `.fwd.packets: fwd.packets + bwd.packets is 0`;

  const reason = u32(f.endReason);
  const recordSeq = u32(f.recordSeq);
  if (Number.isNaN(recordSeq)) return `.record_seq: not a valid number`;
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
