// The JSON form of a flow record (one object per line in --jsonl): a stable interface that scripts
// rely on; src is the initiator, times are seconds since the epoch, lengths are IP total lengths.
import { END_REASON_NAMES, formatAddress, type IDirectionStats, type IFlowRecord } from '../../proto';

function std(m2: number, n: number): number {
  return n > 0 ? Math.sqrt(m2 / n) : 0;
}

function direction(prefix: string, d: IDirectionStats, out: Record<string, unknown>): void {
  const packets = Number(d.packets ?? 0);
  const iats = Number(d.iatCount ?? 0);
  out[`${prefix}_payload_bytes`] = Number(d.payloadBytes ?? 0);
  out[`${prefix}_header_bytes`] = Number(d.headerBytes ?? 0);
  out[`${prefix}_tcp_flags`] = d.tcpFlags ?? 0;
  out[`${prefix}_syn_count`] = d.synCount ?? 0;
  out[`${prefix}_fin_count`] = d.finCount ?? 0;
  out[`${prefix}_rst_count`] = d.rstCount ?? 0;
  out[`${prefix}_psh_count`] = d.pshCount ?? 0;
  out[`${prefix}_ack_count`] = d.ackCount ?? 0;
  out[`${prefix}_urg_count`] = d.urgCount ?? 0;
  out[`${prefix}_init_window`] = d.initWindow ?? 0;
  out[`${prefix}_len_min`] = d.lenMin ?? 0;
  out[`${prefix}_len_max`] = d.lenMax ?? 0;
  out[`${prefix}_len_mean`] = d.lenMean ?? 0;
  out[`${prefix}_len_std`] = std(d.lenM2 ?? 0, packets);
  out[`${prefix}_iat_min_us`] = Number(d.iatMinUs ?? 0);
  out[`${prefix}_iat_max_us`] = Number(d.iatMaxUs ?? 0);
  out[`${prefix}_iat_mean_us`] = d.iatMeanUs ?? 0;
  out[`${prefix}_iat_std_us`] = std(d.iatM2Us ?? 0, iats);
}

export function flowToJson(r: IFlowRecord): Record<string, unknown> {
  const fwd = r.fwd ?? {};
  const bwd = r.bwd ?? {};
  const out: Record<string, unknown> = {
    flow_id: Number(r.flowId ?? 0),
    src_ip: formatAddress(r.srcAddr ?? new Uint8Array(0)),
    src_port: r.srcPort ?? 0,
    dst_ip: formatAddress(r.dstAddr ?? new Uint8Array(0)),
    dst_port: r.dstPort ?? 0,
    proto: r.protocol ?? 0,
    vlan: r.hasVlan ? r.vlanId : null,
    first_ts: Number(r.firstUs ?? 0) / 1e6,
    last_ts: Number(r.lastUs ?? 0) / 1e6,
    duration_s: (Number(r.lastUs ?? 0) - Number(r.firstUs ?? 0)) / 1e6,
    fwd_packets: Number(fwd.packets ?? 0),
    bwd_packets: Number(bwd.packets ?? 0),
    fwd_ip_bytes: Number(fwd.ipBytes ?? 0),
    bwd_ip_bytes: Number(bwd.ipBytes ?? 0),
    tcp_flags: (fwd.tcpFlags ?? 0) | (bwd.tcpFlags ?? 0),
    end_reason: END_REASON_NAMES[r.endReason ?? 0] ?? 'unspecified',
  };
  direction('fwd', fwd, out);
  direction('bwd', bwd, out);
  return out;
}
