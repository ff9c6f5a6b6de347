// Zeek's conn_state for a TCP flow, from what each side sent (docs.zeek.org, base/protocols/conn).
// The scan detectors lean on it: S0, REJ and RSTOS0 are failed attempts.
import type { FlowEntry } from '../flow/flow-entry';

export function connState(flow: FlowEntry): string {
  const o = flow.fwd;
  const r = flow.bwd;
  const origSyn = o.synCount > 0;
  const respSynAck = r.synCount > 0;
  const origFin = o.finCount > 0, respFin = r.finCount > 0;
  const origRst = o.rstCount > 0, respRst = r.rstCount > 0;
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
