// Zeek's conn_state for a TCP flow, from what each side sent (docs.zeek.org, base/protocols/conn).
// The scan detectors lean on it: S0, REJ and RSTOS0 are failed attempts.
import { CoreDirI, CoreI, TcpCount, tcpCount } from '../flow/flow-slots';

export function connState(i32: Int32Array, slot: number): string {
  const o = i32[slot * CoreI.STRIDE + CoreI.FWD + CoreDirI.TCP];
  const r = i32[slot * CoreI.STRIDE + CoreI.BWD + CoreDirI.TCP];
  const origSyn = tcpCount(o, TcpCount.SYN) > 0;
  const respSynAck = tcpCount(r, TcpCount.SYN) > 0;
  const origFin = tcpCount(o, TcpCount.FIN) > 0, respFin = tcpCount(r, TcpCount.FIN) > 0;
  const origRst = tcpCount(o, TcpCount.RST) > 0, respRst = tcpCount(r, TcpCount.RST) > 0;
  if (!origSyn) {
    if (respSynAck && respRst) return 'RSTRH';
    if (respSynAck && respFin) return 'SHR';
    return 'OTH';
  }
  if (!respSynAck) {
    if (respRst) return 'REJ';
    if (origRst) return 'RSTOS0';
    if (origFin) return 'SH';
    return 'S0';
  }
  if (origRst) return 'RSTO';
  if (respRst) return 'RSTR';
  if (origFin && respFin) return 'SF';
  if (origFin) return 'S2';
  if (respFin) return 'S3';
  return 'S1';
}
