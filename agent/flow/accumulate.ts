// The per-packet update of one flow direction: counters and Welford running moments, no allocation.
import {
  IPPROTO_TCP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type PacketMeta,
} from '../decode/packet-meta';
import type { DirectionState, FlowEntry } from './flow-entry';

export function accumulate(flow: FlowEntry, dir: number, m: PacketMeta, nowUs: number): void {
  const d = dir > 0 ? flow.fwd : flow.bwd;
  if (nowUs > flow.lastUs) flow.lastUs = nowUs;
  if (nowUs < flow.firstUs) flow.firstUs = nowUs;
  addLength(d, m.ipTotalLen);
  d.ipBytes += m.ipTotalLen;
  d.payloadBytes += m.payloadLen;
  d.headerBytes += m.ipHeaderLen + m.l4HeaderLen;
  if (d.packets > 1) addGap(d, nowUs - d.lastUs);
  d.lastUs = nowUs;
  if (m.protocol === IPPROTO_TCP && m.l4Valid) {
    const f = m.tcpFlags;
    d.tcpFlags |= f;
    if (f & TCP_SYN) d.synCount++;
    if (f & TCP_FIN) d.finCount++;
    if (f & TCP_RST) d.rstCount++;
    if (f & TCP_PSH) d.pshCount++;
    if (f & TCP_ACK) d.ackCount++;
    if (f & TCP_URG) d.urgCount++;
    if (d.initWindow < 0) d.initWindow = m.tcpWindow;
  }
}

function addLength(d: DirectionState, len: number): void {
  const n = ++d.packets;
  if (n === 1 || len < d.lenMin) d.lenMin = len;
  if (len > d.lenMax) d.lenMax = len;
  const delta = len - d.lenMean;
  d.lenMean += delta / n;
  d.lenM2 += delta * (len - d.lenMean);
}

/** Gaps are clamped at 0: capture timestamps can step back, and a negative gap means nothing. */
function addGap(d: DirectionState, gapUs: number): void {
  if (gapUs < 0) gapUs = 0;
  const n = ++d.iatCount;
  if (n === 1 || gapUs < d.iatMinUs) d.iatMinUs = gapUs;
  if (gapUs > d.iatMaxUs) d.iatMaxUs = gapUs;
  const delta = gapUs - d.iatMeanUs;
  d.iatMeanUs += delta / n;
  d.iatM2Us += delta * (gapUs - d.iatMeanUs);
}
