// The generated campus mix scripts/bench/detect.ts measures detection with (HTTPS with SNI and JA4,
// DNS, SSH, a few scanners, UDP): deterministic, so runs compare.
import type { DirectionStats, FlowRow } from '../../collector/model';

export const BATCH = 1000;

function stats(packets: number, payloadBytes: number, synCount: number, tcpFlags: number, lenMean: number): DirectionStats {
  // one literal with every key in the order validate.ts builds them: the same object shape as ingest's
  return {
    packets, ipBytes: payloadBytes + 40 * packets, payloadBytes, headerBytes: 40 * packets, tcpFlags, synCount, finCount: synCount,
    rstCount: 0, pshCount: 0, ackCount: synCount ? packets - 1 : 0, urgCount: 0, initWindow: 0, lenMin: 40, lenMax: 1500, lenMean, lenM2: 0,
    iatCount: packets - 1, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 30_000, iatM2Us: 0,
  };
}

/** The address as the ingest decoder sets FlowRow.srcV4/dstV4 from its bytes: the IPv4 int32, else NaN. */
function v4(ip: string): number {
  const b = ip.split('.');
  return b.length === 4 ? b.reduce((n, x) => (n << 8) | Number(x), 0) : NaN;
}

function row(i: number, srcIp: string, dstIp: string, dstPort: number, proto: number, durUs: number, connState: string,
  app: Record<string, unknown> | null, fwd: DirectionStats, bwd: DirectionStats): FlowRow {
  const firstUs = T0 + i * 100;
  return {
    agentId: 'gw1', bootId: 'b', seq: 1 + Math.floor(i / BATCH), flowId: i + 1, recordSeq: 0, recordType: 'final', communityId: '',
    connState, app, srcIp, dstIp, srcV4: v4(srcIp), dstV4: v4(dstIp), srcPort: 30000 + (i % 30000), dstPort, proto, vlan: null,
    firstUs, lastUs: firstUs + durUs,
    endReason: 'idle', fwd, bwd,
  };
}

const T0 = 1_700_000_000_000_000;

/** A deterministic campus mix; flow i starts at i × 100 µs. */
export function makeFlows(n: number): FlowRow[] {
  let seed = 12345;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const out: FlowRow[] = [];
  for (let i = 0; i < n; i++) {
    const r = rand();
    const client = `10.${(i >> 8) & 3}.${(i >> 3) & 31}.${1 + (i % 200)}`;
    if (r < 0.6) {
      out.push(row(i, client, `93.184.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}`, 443, 6, Math.floor(rand() * 5e6), 'SF',
        { tls_sni: `site${Math.floor(rand() * 5000)}.example.com`, ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1' },
        stats(10, 400 + Math.floor(rand() * 2000), 1, 0x1b, 80), stats(20, 2000 + Math.floor(rand() * 100_000), 1, 0x1b, 900)));
    } else if (r < 0.85) {
      out.push(row(i, client, '10.0.0.53', 53, 17, 2000, '', { dns_query: `host${Math.floor(rand() * 20000)}.example${Math.floor(rand() * 300)}.org`, dns_qtype: 1 },
        stats(1, 40, 0, 0, 68), stats(1, 120, 0, 0, 148)));
    } else if (r < 0.9) {
      out.push(row(i, client, `10.1.0.${Math.floor(rand() * 20)}`, 22, 6, 600e6, 'SF', null, stats(400, 30_000, 1, 0x1b, 120), stats(380, 90_000, 1, 0x1b, 280)));
    } else if (r < 0.95) {
      out.push(row(i, `198.51.100.${Math.floor(rand() * 8)}`, `10.2.${Math.floor(rand() * 250)}.${Math.floor(rand() * 250)}`, [22, 23, 445, 3389, 8080][Math.floor(rand() * 5)], 6, 0, 'S0', null,
        stats(1, 0, 1, 0x02, 44), stats(0, 0, 0, 0, 0)));
    } else {
      out.push(row(i, client, `203.0.113.${Math.floor(rand() * 250)}`, 1024 + Math.floor(rand() * 60000), 17, 1e6, '', null, stats(5, 600, 0, 0, 148), stats(4, 500, 0, 0, 153)));
    }
  }
  return out;
}
