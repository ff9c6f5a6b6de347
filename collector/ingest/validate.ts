// A FlowBatch's wire bytes → the FlowRows the store keeps, decoded and validated in one pass. Only the
// fields the collector keeps are read; the rest (early-packet shape, payload and timing summaries of
// both directions, tunnel, …) are skipped in place. Malformed protobuf throws WireError (the frame is
// answered BAD_FRAME); a decodable batch with bad content is returned as a message naming the flow index
// and the wire field (`flows[3].src_addr: ...`), which ingest sends back as Error{INVALID_BATCH}.
import { END_REASON_NAMES, formatAddress, RecordType } from '../../proto';
import type { BatchRecord, DirectionStats, FlowRow } from '../model';
import { WireError, WireReader } from './wire-reader';

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

const MAX_BOOT_ID_CHARS = 128;
const MAX_NAME = 255;
const MAX_LIST = 8;

/** Field numbers of proto/goalkeeper.proto that the decoder reads (DirectionStats: readStats). */
const F = {
  BATCH_SEQ: 1, BATCH_BOOT_ID: 2, BATCH_FLOWS: 4,
  SRC_ADDR: 1, DST_ADDR: 2, SRC_PORT: 3, DST_PORT: 4, PROTOCOL: 5, VLAN_ID: 6, HAS_VLAN: 7, FIRST_US: 8, LAST_US: 9,
  END_REASON: 10, FWD: 11, BWD: 12, FLOW_ID: 13, COMMUNITY_ID: 19, RECORD_SEQ: 20, RECORD_TYPE: 21, APP: 27,
  CONN_STATE: 28,
} as const;

/** DirectionStats fields 1–21 by number: member, wire name, and whether it is a double (else uint64/uint32). */
const STATS_FIELDS: ReadonlyArray<readonly [keyof DirectionStats, string, boolean]> = [
  ['packets', 'packets', false], ['ipBytes', 'ip_bytes', false], ['payloadBytes', 'payload_bytes', false],
  ['headerBytes', 'header_bytes', false], ['tcpFlags', 'tcp_flags', false], ['synCount', 'syn_count', false],
  ['finCount', 'fin_count', false], ['rstCount', 'rst_count', false], ['pshCount', 'psh_count', false],
  ['ackCount', 'ack_count', false], ['urgCount', 'urg_count', false], ['initWindow', 'init_window', false],
  ['lenMin', 'len_min', false], ['lenMax', 'len_max', false], ['lenMean', 'len_mean', true], ['lenM2', 'len_m2', true],
  ['iatCount', 'iat_count', false], ['iatMinUs', 'iat_min_us', false], ['iatMaxUs', 'iat_max_us', false],
  ['iatMeanUs', 'iat_mean_us', true], ['iatM2Us', 'iat_m2_us', true],
];

// Wire types, as local constants: the hot loops below read them on every field.
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INTERIM = RecordType.RECORD_TYPE_INTERIM;
const REASONS = END_REASON_NAMES;
const isSafe = (v: number): boolean => v <= MAX_SAFE;

function zeroStats(): DirectionStats {
  return {
    packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
    pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
    iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0,
  };
}

/** uint64 field: NaN when past 2^53 (not exactly representable). */
function u64At(r: WireReader, field: number, wt: number): number {
  r.expect(field, wt, VARINT);
  const v = r.varint();
  return v <= MAX_SAFE ? v : NaN;
}

function u32At(r: WireReader, field: number, wt: number): number {
  r.expect(field, wt, VARINT);
  return r.uint32();
}

/** double field: NaN when not finite. */
function f64At(r: WireReader, field: number, wt: number): number {
  r.expect(field, wt, FIXED64);
  const v = r.double();
  return v - v === 0 ? v : NaN;
}

/**
 * Reads one DirectionStats message (pos at its length prefix) into a new object. A value that cannot be
 * represented (uint64 past 2^53, a double that is not finite) is stored as NaN; the caller names it.
 * One case per field with a named store: a table-driven keyed store was a fifth of the decode time.
 */
function readStats(r: WireReader): DirectionStats {
  const end = r.lengthEnd();
  const outer = r.end;
  r.end = end;
  const s = zeroStats();
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case 1: s.packets = u64At(r, field, wt); break;
      case 2: s.ipBytes = u64At(r, field, wt); break;
      case 3: s.payloadBytes = u64At(r, field, wt); break;
      case 4: s.headerBytes = u64At(r, field, wt); break;
      case 5: s.tcpFlags = u32At(r, field, wt); break;
      case 6: s.synCount = u32At(r, field, wt); break;
      case 7: s.finCount = u32At(r, field, wt); break;
      case 8: s.rstCount = u32At(r, field, wt); break;
      case 9: s.pshCount = u32At(r, field, wt); break;
      case 10: s.ackCount = u32At(r, field, wt); break;
      case 11: s.urgCount = u32At(r, field, wt); break;
      case 12: s.initWindow = u32At(r, field, wt); break;
      case 13: s.lenMin = u32At(r, field, wt); break;
      case 14: s.lenMax = u32At(r, field, wt); break;
      case 15: s.lenMean = f64At(r, field, wt); break;
      case 16: s.lenM2 = f64At(r, field, wt); break;
      case 17: s.iatCount = u64At(r, field, wt); break;
      case 18: s.iatMinUs = u64At(r, field, wt); break;
      case 19: s.iatMaxUs = u64At(r, field, wt); break;
      case 20: s.iatMeanUs = f64At(r, field, wt); break;
      case 21: s.iatM2Us = f64At(r, field, wt); break;
      default: r.skip(wt);
    }
  }
  r.end = outer;
  return s;
}

/** The first problem of a direction's statistics, or undefined. */
function statsProblem(s: DirectionStats, at: string): string | undefined {
  const sum = s.packets + s.ipBytes + s.payloadBytes + s.headerBytes + s.tcpFlags + s.synCount + s.finCount +
    s.rstCount + s.pshCount + s.ackCount + s.urgCount + s.initWindow + s.lenMin + s.lenMax + s.lenMean +
    s.lenM2 + s.iatCount + s.iatMinUs + s.iatMaxUs + s.iatMeanUs + s.iatM2Us;
  if (Number.isNaN(sum)) {
    for (const [key, wire, double] of STATS_FIELDS) {
      if (Number.isNaN(s[key])) return `${at}.${wire}: not a valid number (${double ? 'not finite' : 'over 2^53'})`;
    }
  }
  if (s.tcpFlags > 0xffff) return `${at}.tcp_flags: ${s.tcpFlags} is not a TCP flag set`;
  return undefined;
}

/** Application names (AppInfo, pos at its length prefix) as a plain object, bounded; null when none. */
function readApp(r: WireReader): Record<string, unknown> | null {
  const end = r.lengthEnd();
  const outer = r.end;
  r.end = end;
  const out: Record<string, unknown> = {};
  let names = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    const name = APP_FIELDS[field];
    if (name === undefined) {
      r.skip(wt);
    } else if (APP_NUMBERS.has(field)) {
      r.expect(field, wt, VARINT);
      out[name] = r.uint32();
      names++;
    } else {
      r.expect(field, wt, LEN);
      const v = r.string().slice(0, MAX_NAME);
      if (APP_LISTS.has(field)) {
        const list = (out[name] as string[] | undefined) ?? (out[name] = []) as string[];
        if (list.length < MAX_LIST) list.push(v);
        names++;
      } else if (v.length > 0) {
        out[name] = v;
        names++;
      }
    }
  }
  r.end = outer;
  return names > 0 ? out : null;
}

/** AppInfo field number → the name the store and alerts use. */
const APP_FIELDS: Record<number, string> = {
  1: 'dns_query', 2: 'dns_qtype', 3: 'dns_rcode', 4: 'dns_answers', 5: 'tls_sni', 6: 'tls_alpn', 7: 'tls_version',
  8: 'ja4', 9: 'http_method', 10: 'http_host', 11: 'http_user_agent', 12: 'quic_version',
};
const APP_NUMBERS = new Set([2, 3, 7, 12]);
const APP_LISTS = new Set([4, 6]);

/** A flow record's fields as read, before validation (reused: one flow at a time). */
interface RawFlow {
  srcStart: number; srcEnd: number; dstStart: number; dstEnd: number;
  srcPort: number; dstPort: number; proto: number; vlanId: number; hasVlan: boolean;
  firstUs: number; lastUs: number; endReason: number; flowId: number; recordSeq: number; recordType: number;
  fwd: DirectionStats | null; bwd: DirectionStats | null; communityId: string; connState: string;
  app: Record<string, unknown> | null;
}

function readFlow(r: WireReader, f: RawFlow): void {
  f.srcStart = f.srcEnd = f.dstStart = f.dstEnd = 0;
  f.srcPort = f.dstPort = f.proto = f.vlanId = f.firstUs = f.lastUs = f.endReason = f.flowId = f.recordSeq = f.recordType = 0;
  f.hasVlan = false;
  f.fwd = f.bwd = null;
  f.communityId = f.connState = '';
  f.app = null;
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    switch (field) {
      case F.SRC_ADDR:
      case F.DST_ADDR: {
        r.expect(field, wt, LEN);
        const end = r.lengthEnd();
        if (field === F.SRC_ADDR) { f.srcStart = r.pos; f.srcEnd = end; } else { f.dstStart = r.pos; f.dstEnd = end; }
        r.pos = end;
        break;
      }
      case F.SRC_PORT: r.expect(field, wt, VARINT); f.srcPort = r.uint32(); break;
      case F.DST_PORT: r.expect(field, wt, VARINT); f.dstPort = r.uint32(); break;
      case F.PROTOCOL: r.expect(field, wt, VARINT); f.proto = r.uint32(); break;
      case F.VLAN_ID: r.expect(field, wt, VARINT); f.vlanId = r.uint32(); break;
      case F.HAS_VLAN: r.expect(field, wt, VARINT); f.hasVlan = r.varint() !== 0; break;
      case F.FIRST_US: r.expect(field, wt, VARINT); f.firstUs = r.varint(); break;
      case F.LAST_US: r.expect(field, wt, VARINT); f.lastUs = r.varint(); break;
      case F.END_REASON: r.expect(field, wt, VARINT); f.endReason = r.uint32(); break;
      case F.FLOW_ID: r.expect(field, wt, VARINT); f.flowId = r.varint(); break;
      case F.RECORD_SEQ: r.expect(field, wt, VARINT); f.recordSeq = r.uint32(); break;
      case F.RECORD_TYPE: r.expect(field, wt, VARINT); f.recordType = r.uint32(); break;
      case F.FWD: r.expect(field, wt, LEN); f.fwd = readStats(r); break;
      case F.BWD: r.expect(field, wt, LEN); f.bwd = readStats(r); break;
      case F.COMMUNITY_ID: r.expect(field, wt, LEN); f.communityId = r.string(); break;
      case F.CONN_STATE: r.expect(field, wt, LEN); f.connState = r.string(); break;
      case F.APP: r.expect(field, wt, LEN); f.app = readApp(r); break;
      default: r.skip(wt);
    }
  }
}

/** A 4-byte address as the int32 FlowRow.srcV4/dstV4 hold; NaN for any other length (IPv6). */
function v4(buf: Buffer, start: number, end: number): number {
  return end - start === 4 ? (buf[start] << 24) | (buf[start + 1] << 16) | (buf[start + 2] << 8) | buf[start + 3] : NaN;
}

/** The text of the 4- or 16-byte address at buf[start, end). */
function addressText(buf: Buffer, start: number, end: number): string {
  if (end - start === 4) return `${buf[start]}.${buf[start + 1]}.${buf[start + 2]}.${buf[start + 3]}`;
  return formatAddress(buf.subarray(start, end));
}

/** A problem comes back as its message after `flows[i]` (so starting with '.' or ':'). */
function validFlow(buf: Buffer, f: RawFlow, ctx: BatchContext, seq: number, limits: ValidationLimits): FlowRow | string {
  const srcLen = f.srcEnd - f.srcStart;
  const dstLen = f.dstEnd - f.dstStart;
  if (srcLen !== 4 && srcLen !== 16) return `.src_addr: length ${srcLen} bytes, want 4 (IPv4) or 16 (IPv6)`;
  if (dstLen !== 4 && dstLen !== 16) return `.dst_addr: length ${dstLen} bytes, want 4 (IPv4) or 16 (IPv6)`;
  if (srcLen !== dstLen) return `.dst_addr: ${dstLen === 4 ? 'IPv4' : 'IPv6'} but src_addr is ${srcLen === 4 ? 'IPv4' : 'IPv6'}`;
  if (f.srcPort > 65535) return `.src_port: ${f.srcPort} is over 65535`;
  if (f.dstPort > 65535) return `.dst_port: ${f.dstPort} is over 65535`;
  if (f.proto > 255) return `.protocol: ${f.proto} is over 255`;
  if (f.hasVlan && f.vlanId > 4095) return `.vlan_id: ${f.vlanId} is over 4095`;

  const latest = ctx.receivedUs + limits.maxClockSkewUs;
  const firstUs = f.firstUs;
  if (!isSafe(firstUs)) return `.first_us: not a valid timestamp`;
  if (firstUs < MIN_PLAUSIBLE_US || firstUs > latest) {
    return `.first_us: ${firstUs} is not a plausible time (µs since 1970, between 1990 and now + max_clock_skew_secs)`;
  }
  const lastUs = f.lastUs;
  if (!isSafe(lastUs)) return `.last_us: not a valid timestamp`;
  if (lastUs < firstUs) return `.last_us: ${lastUs} is before first_us ${firstUs}`;
  if (lastUs > latest) return `.last_us: ${lastUs} is in the future (more than max_clock_skew_secs past now)`;
  if (!isSafe(f.flowId)) return `.flow_id: not a valid number`;

  if (!f.fwd && !f.bwd) return `: fwd and bwd are both missing (packet counts are required)`;
  const fwd = f.fwd ?? zeroStats();
  const bwd = f.bwd ?? zeroStats();
  const bad = statsProblem(fwd, '.fwd') ?? statsProblem(bwd, '.bwd');
  if (bad) return bad;
  if (fwd.packets + bwd.packets === 0) return `.fwd.packets: fwd.packets + bwd.packets is 0`;

  return {
    agentId: ctx.agentId,
    bootId: ctx.bootId,
    seq,
    flowId: f.flowId,
    recordSeq: f.recordSeq,
    recordType: f.recordType === INTERIM ? 'interim' : 'final',
    communityId: f.communityId.slice(0, 64),
    connState: f.connState.slice(0, 8),
    app: f.app,
    srcIp: addressText(buf, f.srcStart, f.srcEnd),
    dstIp: addressText(buf, f.dstStart, f.dstEnd),
    srcV4: v4(buf, f.srcStart, f.srcEnd),
    dstV4: v4(buf, f.dstStart, f.dstEnd),
    srcPort: f.srcPort,
    dstPort: f.dstPort,
    proto: f.proto,
    vlan: f.hasVlan ? f.vlanId : null,
    firstUs,
    lastUs,
    endReason: REASONS[f.endReason] ?? `reason_${f.endReason}`,
    fwd,
    bwd,
  };
}

/** What a batch says about itself before its flows are read: enough to answer it by seq. */
export interface BatchHeader {
  /** NaN when the field cannot be represented; 0 when absent */
  seq: number;
  bootId: string;
  flows: number;
}

/** Reads seq, boot_id and the number of flows of the FlowBatch in buf[start, end). Throws WireError. */
export function readBatchHeader(buf: Buffer, start: number, end: number): BatchHeader {
  const r = new WireReader(buf, start, end);
  const h: BatchHeader = { seq: 0, bootId: '', flows: 0 };
  while (r.pos < end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === F.BATCH_SEQ) {
      r.expect(field, wt, VARINT);
      const v = r.varint();
      h.seq = isSafe(v) ? v : NaN;
    } else if (field === F.BATCH_BOOT_ID) {
      r.expect(field, wt, LEN);
      h.bootId = r.string();
    } else {
      if (field === F.BATCH_FLOWS) {
        r.expect(field, wt, LEN);
        h.flows++;
      }
      r.skip(wt);
    }
  }
  return h;
}

/**
 * Decodes and validates the FlowBatch in buf[start, end) (its header read already, or read here). Throws
 * WireError when the bytes are not a FlowBatch; returns the first content problem otherwise.
 */
export function decodeBatch(
  buf: Buffer, start: number, end: number, ctx: BatchContext, limits: ValidationLimits, h = readBatchHeader(buf, start, end),
): ValidationResult {
  if (!(h.seq >= 1)) return { ok: false, message: `seq: must be an integer >= 1 (got ${Number.isNaN(h.seq) ? 'a value over 2^53' : h.seq})` };
  // A batch may come from an earlier run of the agent (resent from its disk spool), so its boot_id need
  // not be this connection's; the batch key (agent, boot_id, seq) stays what the agent first gave it.
  const bootId = h.bootId;
  if (bootId.length === 0 || bootId.length > MAX_BOOT_ID_CHARS) {
    return { ok: false, message: `boot_id: must be 1–${MAX_BOOT_ID_CHARS} characters (got ${bootId.length})` };
  }
  if (h.flows > limits.maxFlowsPerBatch) {
    return { ok: false, message: `flows: ${h.flows} flows, more than max_flows_per_batch ${limits.maxFlowsPerBatch}` };
  }
  const batchCtx = bootId === ctx.bootId ? ctx : { ...ctx, bootId };
  const rows: FlowRow[] = new Array(h.flows);
  const r = new WireReader(buf, start, end);
  const raw: RawFlow = {
    srcStart: 0, srcEnd: 0, dstStart: 0, dstEnd: 0, srcPort: 0, dstPort: 0, proto: 0, vlanId: 0, hasVlan: false,
    firstUs: 0, lastUs: 0, endReason: 0, flowId: 0, recordSeq: 0, recordType: 0, fwd: null, bwd: null, communityId: '',
    connState: '', app: null,
  };
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 !== F.BATCH_FLOWS) {
      r.skip(tag & 7);
      continue;
    }
    const flowEnd = r.lengthEnd();
    r.end = flowEnd;
    readFlow(r, raw);
    r.end = end;
    const row = validFlow(buf, raw, batchCtx, h.seq, limits);
    if (typeof row === 'string') return { ok: false, message: `flows[${i}]${row}` };
    rows[i++] = row;
  }
  return { ok: true, batch: { agentId: ctx.agentId, bootId, seq: h.seq, receivedUs: ctx.receivedUs, flows: rows } };
}

export { WireError };
