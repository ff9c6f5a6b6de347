// The per-batch pre-pass every detector shares: each flow's addresses as keys that are cheap to
// hash, its probe traits as bits and the numbers detectors filter on as typed-array columns (see
// FlowKeys). A canonical dotted-quad IPv4 address becomes its 32-bit value as a signed int32 (a small
// integer to V8: no string hashing, no allocation); any other address (IPv6, or IPv4 not spelled
// canonically) stays its string as an AddrKey, and gets an interned int32 id for slot tables. Both
// are exact: one address, one key. The runner fills this once per batch and hands it to every
// detector; a detector called without it (tests) fills its own.
import type { FlowRow } from '../model';
import { BoundedMap } from './bounded-map';
import { isConnectionAttempt, isEchoRequest, Probe, probeOutcome, responderAccepted } from './probes';

export type AddrKey = number | string;

/** The int32 of a canonical dotted quad ("10.0.0.1": no leading zeros, octets ≤ 255), else NaN. */
export function ipv4Key(ip: string): number {
  if (typeof ip !== 'string') return NaN; // a malformed row: left for the detectors to fail on, one by one
  const len = ip.length;
  if (len < 7 || len > 15) return NaN;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < len; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return NaN;
      n = (n << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return NaN; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255) return NaN;
      digits++;
    } else return NaN;
  }
  if (dots !== 3 || digits === 0) return NaN;
  return (n << 8) | part;
}

/** The key of one address: its int32 when canonical IPv4, else the text itself. */
export function addrKey(ip: string): AddrKey {
  const v = ipv4Key(ip);
  return v === v ? v : ip;
}

/** The address an AddrKey stands for, spelled as in FlowRow. */
export function keyText(k: AddrKey): string {
  return typeof k === 'string' ? k : `${k >>> 24}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`;
}

/** Interned non-IPv4 addresses: at most this many remembered (least recently used forgotten). */
const MAX_INTERNED = 262_144;
/** address text → id; one for the process, so every FlowKeys (and a detector called alone) agrees */
const interned = new BoundedMap<string, number>(MAX_INTERNED);
let nextId = 0;

/** A number for an address that has no int32 key (IPv6, IPv4 not spelled canonically). Ids are
 * handed out in order and never reused (until 2^32 of them): a forgotten address comes back with a
 * new id, so state kept under its old one is never confused with another address's. */
export function internAddr(ip: string): number {
  let id = interned.get(ip);
  if (id === undefined) {
    id = nextId;
    nextId = (nextId + 1) | 0;
    interned.set(ip, id);
  }
  return id;
}

/** Bits of FlowKeys.kinds: the source (destination) id is an interned address, not an IPv4 value. */
export const SRC_INTERNED = 1;
export const DST_INTERNED = 2;

/** Bits of FlowKeys.traits: what the shared predicates say about each flow (probes.ts). */
export const FIRST_RECORD = 1; // recordSeq 0: a flow's first (or only) record
export const FINAL = 2; // recordType 'final'
export const ATTEMPT = 4; // isConnectionAttempt
export const ACCEPTED = 8; // responderAccepted
export const PROBE_FAILED = 16; // probeOutcome FAILED
export const PROBE_ANSWERED = 32; // probeOutcome ANSWERED
export const ECHO = 64; // isEchoRequest
export const HAS_APP = 128; // app names present

/**
 * The per-batch pre-pass, by flow index; the arrays are reused batch to batch. Besides the address
 * keys, the numbers most detectors filter on are copied into typed arrays (columns) once, so each
 * detector scans a few small arrays rather than every FlowRow object again — a batch's rows do not
 * stay in cache from one detector to the next; a detector reads a row only for the flows it keeps.
 * `src`/`dst` are AddrKeys; `srcId`/`dstId` the same addresses as int32s for slot tables
 * (slot-table.ts): the IPv4 value, or an interned id when `kinds` has SRC_INTERNED/DST_INTERNED —
 * a table keyed by an id must also key by those bits, so the two kinds never collide.
 */
export class FlowKeys {
  readonly src: AddrKey[] = [];
  readonly dst: AddrKey[] = [];
  srcId = new Int32Array(0);
  dstId = new Int32Array(0);
  kinds = new Uint8Array(0);
  /** FIRST_RECORD | FINAL | ATTEMPT | … */
  traits = new Uint8Array(0);
  proto = new Uint8Array(0);
  dstPort = new Int32Array(0);
  firstUs = new Float64Array(0);
  lastUs = new Float64Array(0);
  fwdPackets = new Float64Array(0);
  bwdPackets = new Float64Array(0);
  fwdPayload = new Float64Array(0);
  bwdPayload = new Float64Array(0);
  /** the agent of every flow of the batch, or undefined when they are not all one agent's */
  agent: string | undefined;
  private flows: readonly FlowRow[] | undefined;

  /** Parses `flows`' addresses and fills the columns (once per batch). */
  fill(flows: readonly FlowRow[]): this {
    const n = flows.length;
    const src = this.src;
    const dst = this.dst;
    src.length = n;
    dst.length = n;
    if (this.srcId.length < n) this.grow(Math.max(n, 1024));
    const { srcId, dstId, kinds, traits, proto, dstPort, firstUs, lastUs, fwdPackets, bwdPackets, fwdPayload, bwdPayload } = this;
    const agent = n > 0 ? flows[0].agentId : undefined;
    let oneAgent = true;
    for (let i = 0; i < n; i++) {
      const f = flows[i];
      if (f.agentId !== agent) oneAgent = false;
      // The ingest decoder's int32s where present: parsing the text was two thirds of this pass.
      const sv = f.srcV4;
      const dv = f.dstV4;
      const s = typeof sv === 'number' ? sv : ipv4Key(f.srcIp);
      const d = typeof dv === 'number' ? dv : ipv4Key(f.dstIp);
      let k = 0;
      if (s === s) {
        src[i] = s;
        srcId[i] = s;
      } else {
        src[i] = f.srcIp;
        srcId[i] = internAddr(f.srcIp);
        k = SRC_INTERNED;
      }
      if (d === d) {
        dst[i] = d;
        dstId[i] = d;
      } else {
        dst[i] = f.dstIp;
        dstId[i] = internAddr(f.dstIp);
        k |= DST_INTERNED;
      }
      kinds[i] = k;
      let t = f.recordSeq === 0 ? FIRST_RECORD : 0;
      if (f.recordType === 'final') t |= FINAL;
      if (isConnectionAttempt(f)) t |= ATTEMPT;
      if (responderAccepted(f)) t |= ACCEPTED;
      const p = probeOutcome(f);
      if (p === Probe.FAILED) t |= PROBE_FAILED;
      else if (p === Probe.ANSWERED) t |= PROBE_ANSWERED;
      if (isEchoRequest(f)) t |= ECHO;
      if (f.app) t |= HAS_APP;
      traits[i] = t;
      proto[i] = f.proto;
      dstPort[i] = f.dstPort;
      firstUs[i] = f.firstUs;
      lastUs[i] = f.lastUs;
      fwdPackets[i] = f.fwd.packets;
      bwdPackets[i] = f.bwd.packets;
      fwdPayload[i] = f.fwd.payloadBytes;
      bwdPayload[i] = f.bwd.payloadBytes;
    }
    this.agent = oneAgent ? agent : undefined;
    this.flows = flows;
    return this;
  }

  private grow(n: number): void {
    this.srcId = new Int32Array(n);
    this.dstId = new Int32Array(n);
    this.kinds = new Uint8Array(n);
    this.traits = new Uint8Array(n);
    this.proto = new Uint8Array(n);
    this.dstPort = new Int32Array(n);
    this.firstUs = new Float64Array(n);
    this.lastUs = new Float64Array(n);
    this.fwdPackets = new Float64Array(n);
    this.bwdPackets = new Float64Array(n);
    this.fwdPayload = new Float64Array(n);
    this.bwdPayload = new Float64Array(n);
  }

  /** True when these keys were filled from exactly this batch. */
  isFor(flows: readonly FlowRow[]): boolean {
    return this.flows === flows && this.src.length === flows.length;
  }

  /** `keys` when it was filled for `flows`, else a fresh pre-pass (a detector called on its own). */
  static of(flows: readonly FlowRow[], keys: FlowKeys | undefined): FlowKeys {
    return keys !== undefined && keys.isFor(flows) ? keys : new FlowKeys().fill(flows);
  }
}
