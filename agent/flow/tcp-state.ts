// TCP teardown as seen from a tap: FIN from both sides, or a RST from either, ends the connection.
import { TCP_FIN, TCP_RST } from '../decode/packet-meta';
import type { FlowEntry } from './flow-entry';

export const enum TcpEvent {
  NONE = 0,
  CLOSED = 1,
}

export function tcpTeardown(flow: FlowEntry, dir: number, flags: number): TcpEvent {
  if ((flags & TCP_RST) !== 0) return TcpEvent.CLOSED;
  if ((flags & TCP_FIN) !== 0) {
    if (dir > 0) flow.finFwd = true;
    else flow.finBwd = true;
    if (flow.finFwd && flow.finBwd) return TcpEvent.CLOSED;
  }
  return TcpEvent.NONE;
}
