// Zeek's conn_state for a TCP flow, from what each side sent (docs.zeek.org, base/protocols/conn).
// The scan detectors lean on it: S0, REJ and RSTOS0 are failed attempts.
import { CoreDirI, CoreI } from '../flow/flow-slots';

export function connState(i32: Int32Array, slot: number): string {
  const o = slot * CoreI.STRIDE + CoreI.FWD;
  const r = slot * CoreI.STRIDE + CoreI.BWD;
  const origSyn = i32[o + CoreDirI.SYN] > 0;
  const respSynAck = i32[r + CoreDirI.SYN] > 0;
  const origFin = i32[o + CoreDirI.FIN] > 0, respFin = i32[r + CoreDirI.FIN] > 0;
  const origRst = i32[o + CoreDirI.RST] > 0, respRst = i32[r + CoreDirI.RST] > 0;
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
