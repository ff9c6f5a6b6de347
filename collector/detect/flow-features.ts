// The flow features the anomaly model scores, written into a caller's Float64Array (no allocation).
// Counts, sizes and durations are log-scaled (log1p) so that one huge flow does not squash the rest
// of the scale; ratios are already in [0, 1]. Per-network min/max scaling happens in anomaly.ts.
import type { FlowRow } from '../model';

export const FEATURE_NAMES = [
  'log_fwd_packets', 'log_bwd_packets', 'log_fwd_payload_bytes', 'log_bwd_payload_bytes', 'log_duration_ms',
  'fwd_mean_len', 'bwd_mean_len', 'log_fwd_iat_mean_us', 'reply_packet_ratio', 'syn_share', 'rst_share',
  'proto', 'dst_port_class',
] as const;
export const FEATURE_COUNT = FEATURE_NAMES.length;

export function flowFeatures(f: FlowRow, out: Float64Array): void {
  const fwd = f.fwd;
  const bwd = f.bwd;
  const pk = fwd.packets + bwd.packets;
  out[0] = Math.log1p(fwd.packets);
  out[1] = Math.log1p(bwd.packets);
  out[2] = Math.log1p(fwd.payloadBytes);
  out[3] = Math.log1p(bwd.payloadBytes);
  out[4] = Math.log1p((f.lastUs - f.firstUs) / 1000);
  out[5] = fwd.lenMean;
  out[6] = bwd.lenMean;
  out[7] = Math.log1p(fwd.iatMeanUs);
  out[8] = bwd.packets / (fwd.packets + bwd.packets || 1);
  out[9] = (fwd.synCount + bwd.synCount) / (pk || 1);
  out[10] = (fwd.rstCount + bwd.rstCount) / (pk || 1);
  out[11] = f.proto === 6 ? 0 : f.proto === 17 ? 0.5 : 1;
  out[12] = f.dstPort < 1024 ? 0 : f.dstPort < 49152 ? 0.5 : 1;
}
