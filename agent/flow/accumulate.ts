// The per-packet update of a flow's row: counters and Welford running moments, no allocation.
// Definitions follow CICFlowMeter's feature list with its documented bugs fixed (docs/features.md).
import {
  IPPROTO_TCP, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type PacketMeta,
} from '../decode/packet-meta';
import {
  CoreDirF, CoreDirI, CoreF, CoreI, StatDirF, StatDirI, StatF, StatI, Tmp, addMoment, type FlowSlots,
} from './flow-slots';

/** Gap that separates two activity periods (CICFlowMeter's activityTimeout). */
export const ACTIVE_GAP_US = 5_000_000;
/** Gap that starts a new subflow, and the longest gap inside a bulk run. */
const SUBFLOW_GAP_US = 1_000_000;
const BULK_MIN_PACKETS = 4;

/**
 * The packet's time comes in s.tmp[Tmp.NOW_US] (FlowTable.add puts it there), not as an argument: a
 * double passed to a call V8 does not inline is boxed, 16 bytes per packet (research/perf-baseline.md).
 */
export function accumulate(s: FlowSlots, slot: number, dir: number, m: PacketMeta): void {
  const t = s.tmp;
  const nowUs = t[Tmp.NOW_US];
  const i32 = s.i32, f64 = s.f64;
  const ib = slot * CoreI.STRIDE, fb = slot * CoreF.STRIDE;
  const di = ib + (dir > 0 ? CoreI.FWD : CoreI.BWD);
  const df = fb + (dir > 0 ? CoreF.FWD : CoreF.BWD);
  const first = i32[ib + CoreI.FWD + CoreDirI.PACKETS] + i32[ib + CoreI.BWD + CoreDirI.PACKETS] === 0;
  const prevUs = f64[fb + CoreF.LAST_US];

  if (first) {
    f64[fb + CoreF.FIRST_US] = nowUs;
    f64[fb + CoreF.LAST_US] = nowUs;
    if (nowUs < s.firstUsFloor[0]) s.firstUsFloor[0] = nowUs;
  } else if (nowUs > prevUs) {
    f64[fb + CoreF.LAST_US] = nowUs;
  }
  i32[di + CoreDirI.PACKETS]++;
  f64[df + CoreDirF.IP_BYTES] += m.ipTotalLen;
  f64[df + CoreDirF.PAYLOAD_BYTES] += m.payloadLen;
  const tcp = m.protocol === IPPROTO_TCP && m.l4Valid;
  if (tcp) i32[di + CoreDirI.TCP] = tcpWord(i32[di + CoreDirI.TCP], m.tcpFlags);
  if (s.full) {
    t[Tmp.GAP_US] = first ? 0 : nowUs - prevUs;
    t[Tmp.PREV_US] = prevUs;
    accumulateStats(s, slot, dir, di, m, first, tcp);
  }
}

/** The core TCP column: flags OR-ed in the low byte, then SYN, FIN and RST counts, each stopping at 255. */
function tcpWord(w: number, f: number): number {
  w |= f;
  if ((f & TCP_SYN) !== 0 && ((w >>> 8) & 0xff) !== 0xff) w += 1 << 8;
  if ((f & TCP_FIN) !== 0 && ((w >>> 16) & 0xff) !== 0xff) w += 1 << 16;
  if ((f & TCP_RST) !== 0 && (w >>> 24) !== 0xff) w += 1 << 24;
  return w | 0;
}

/** The full layout's statistics (flow.features = full). Times come in s.tmp (see addMoment). */
function accumulateStats(s: FlowSlots, slot: number, dir: number, coreDir: number, m: PacketMeta, first: boolean, tcp: boolean): void {
  const sf = s.sf64, si = s.si32, i32 = s.i32, t = s.tmp;
  const nowUs = t[Tmp.NOW_US];
  const fb = slot * StatF.STRIDE, ib = slot * StatI.STRIDE;
  const d = fb + (dir > 0 ? StatF.FWD : StatF.BWD);
  const other = fb + (dir > 0 ? StatF.BWD : StatF.FWD);
  const di = ib + (dir > 0 ? StatI.FWD : StatI.BWD);
  const payload = m.payloadLen;

  // Flow-level timing: gaps in either direction, activity periods, subflows.
  if (first) {
    sf[fb + StatF.ACTIVE_START_US] = nowUs;
    si[ib + StatI.SUBFLOWS] = 1;
  } else {
    if (t[Tmp.GAP_US] < 0) {
      t[Tmp.GAP_US] = 0;
      si[ib + StatI.TS_REGRESSIONS]++;
    }
    const gap = t[Tmp.GAP_US];
    addMoment(sf, fb + StatF.IAT, t, Tmp.GAP_US);
    if (gap > SUBFLOW_GAP_US) si[ib + StatI.SUBFLOWS]++;
    if (gap > ACTIVE_GAP_US) {
      t[Tmp.X] = t[Tmp.PREV_US] - sf[fb + StatF.ACTIVE_START_US];
      if (t[Tmp.X] > 0) addMoment(sf, fb + StatF.ACTIVE, t, Tmp.X);
      addMoment(sf, fb + StatF.IDLE, t, Tmp.GAP_US);
      sf[fb + StatF.ACTIVE_START_US] = nowUs;
    }
  }
  const k = si[ib + StatI.EARLY_COUNT];
  if (k < s.earlyPackets) {
    si[ib + StatI.EARLY_COUNT] = k + 1;
    const at = slot * s.earlyPackets + k;
    s.earlySizes[at] = dir > 0 ? m.ipTotalLen : -m.ipTotalLen;
    s.earlyGapsUs[at] = t[Tmp.GAP_US];
  }
  t[Tmp.X] = payload;
  addMoment(sf, fb + StatF.PAYLOAD_LEN, t, Tmp.X);

  // This direction.
  const packets = i32[coreDir + CoreDirI.PACKETS];
  if (packets === 1) {
    sf[d + StatDirF.FIRST_US] = nowUs;
    si[di + StatDirI.L4_HEADER_LEN_MIN] = m.l4HeaderLen;
  } else {
    const dirLast = sf[d + StatDirF.LAST_US];
    t[Tmp.X] = nowUs > dirLast ? nowUs - dirLast : 0;
    addMoment(sf, d + StatDirF.IAT, t, Tmp.X);
    if (m.l4HeaderLen < si[di + StatDirI.L4_HEADER_LEN_MIN]) si[di + StatDirI.L4_HEADER_LEN_MIN] = m.l4HeaderLen;
  }
  if (nowUs > sf[d + StatDirF.LAST_US]) sf[d + StatDirF.LAST_US] = nowUs;
  t[Tmp.X] = m.ipTotalLen;
  addMoment(sf, d + StatDirF.LEN, t, Tmp.X);
  t[Tmp.X] = payload;
  addMoment(sf, d + StatDirF.PAYLOAD_LEN, t, Tmp.X);
  sf[d + StatDirF.HEADER_BYTES] += m.ipHeaderLen + m.l4HeaderLen;
  sf[d + StatDirF.L4_HEADER_BYTES] += m.l4HeaderLen;
  if (payload > 0) {
    si[di + StatDirI.NONEMPTY_PACKETS]++;
    bulk(sf, si, t, d, other, di, payload);
  }
  if (tcp) tcpStats(si, di, m, packets);
}

function tcpStats(si: Int32Array, di: number, m: PacketMeta, packets: number): void {
  const f = m.tcpFlags;
  if (packets === 1) si[di + StatDirI.FIRST_TCP_FLAGS] = f;
  if (f & TCP_FIN) si[di + StatDirI.FIN]++;
  if (f & TCP_RST) si[di + StatDirI.RST]++;
  if (f & TCP_SYN && ++si[di + StatDirI.SYN] === 1) {
    // The direction's first SYN (or SYN-ACK): its window, not a later one, and its options.
    si[di + StatDirI.INIT_WINDOW] = m.tcpWindow;
    si[di + StatDirI.TCP_MSS] = m.tcpMss;
    si[di + StatDirI.TCP_WSCALE] = m.tcpWscale;
    si[di + StatDirI.TCP_SACK_OK] = m.tcpSackOk ? 1 : 0;
    si[di + StatDirI.TCP_TIMESTAMPS] = m.tcpTimestamps ? 1 : 0;
    si[di + StatDirI.SYN_TTL] = m.ttl;
  }
  if (si[di + StatDirI.INIT_WINDOW] < 0) si[di + StatDirI.INIT_WINDOW] = m.tcpWindow;
  if (f & TCP_PSH) si[di + StatDirI.PSH]++;
  if (f & TCP_ACK) si[di + StatDirI.ACK]++;
  if (f & TCP_URG) si[di + StatDirI.URG]++;
  if (f & TCP_ECE) si[di + StatDirI.ECE]++;
  if (f & TCP_CWR) si[di + StatDirI.CWR]++;
}

/**
 * A bulk is a run of ≥ 4 payload packets in one direction, each within 1 s of the previous, with no
 * payload from the other direction in between. CICFlowMeter compares directions by reference and so
 * books every bulk as backward; here each direction has its own run.
 */
function bulk(sf: Float64Array, si: Int32Array, t: Float64Array, d: number, other: number, di: number, payload: number): void {
  const nowUs = t[Tmp.NOW_US];
  const interrupted = sf[other + StatDirF.RUN_LAST_US] > sf[d + StatDirF.RUN_START_US];
  const run = si[di + StatDirI.RUN_PACKETS];
  if (run === 0 || interrupted || nowUs - sf[d + StatDirF.RUN_LAST_US] > SUBFLOW_GAP_US) {
    sf[d + StatDirF.RUN_START_US] = nowUs;
    sf[d + StatDirF.RUN_LAST_US] = nowUs;
    si[di + StatDirI.RUN_PACKETS] = 1;
    sf[d + StatDirF.RUN_BYTES] = payload;
    return;
  }
  si[di + StatDirI.RUN_PACKETS] = run + 1;
  sf[d + StatDirF.RUN_BYTES] += payload;
  if (run + 1 === BULK_MIN_PACKETS) {
    si[di + StatDirI.BULK_COUNT]++;
    si[di + StatDirI.BULK_PACKETS] += run + 1;
    sf[d + StatDirF.BULK_BYTES] += sf[d + StatDirF.RUN_BYTES];
    sf[d + StatDirF.BULK_DURATION_US] += nowUs - sf[d + StatDirF.RUN_START_US];
  } else if (run + 1 > BULK_MIN_PACKETS) {
    si[di + StatDirI.BULK_PACKETS]++;
    sf[d + StatDirF.BULK_BYTES] += payload;
    sf[d + StatDirF.BULK_DURATION_US] += nowUs - sf[d + StatDirF.RUN_LAST_US];
  }
  sf[d + StatDirF.RUN_LAST_US] = nowUs;
}
