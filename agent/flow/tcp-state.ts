// TCP teardown as seen from a tap: FIN from both sides, or a RST from either, ends the connection.
import { TCP_FIN, TCP_RST } from '../decode/packet-meta';
import { CoreI, StateBit } from './flow-slots';

export const enum TcpEvent {
  NONE = 0,
  CLOSED = 1,
}

export function tcpTeardown(i32: Int32Array, slot: number, dir: number, flags: number): TcpEvent {
  if ((flags & TCP_RST) !== 0) return TcpEvent.CLOSED;
  if ((flags & TCP_FIN) !== 0) {
    const at = slot * CoreI.STRIDE + CoreI.META;
    const state = (i32[at] |= dir > 0 ? StateBit.FIN_FWD : StateBit.FIN_BWD);
    if ((state & (StateBit.FIN_FWD | StateBit.FIN_BWD)) === (StateBit.FIN_FWD | StateBit.FIN_BWD)) return TcpEvent.CLOSED;
  }
  return TcpEvent.NONE;
}
