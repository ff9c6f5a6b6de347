import t from 'tap';
import { validateBatch } from '../../../collector/ingest/validate';
import type { IFlowBatch, IFlowRecord } from '../../../proto';

const ctx = { agentId: 'gw1', bootId: 'boot-A', receivedUs: 1_700_000_100_000_000 };
const limits = { maxFlowsPerBatch: 100, maxClockSkewUs: 60e6 };

function flow(extra: Partial<IFlowRecord> = {}): IFlowRecord {
  return {
    srcAddr: Uint8Array.of(10, 0, 0, 1), dstAddr: Uint8Array.of(10, 0, 0, 2), srcPort: 40000, dstPort: 443, protocol: 6,
    firstUs: 1_700_000_000_000_000, lastUs: 1_700_000_001_000_000, flowId: 7, endReason: 1,
    fwd: { packets: 3, ipBytes: 180, tcpFlags: 0x02, lenMean: 60.5, iatMaxUs: 2 ** 53 - 1 }, bwd: { packets: 2, synCount: 1 },
    ...extra,
  };
}

function check(flows: IFlowRecord[]): string {
  const batch: IFlowBatch = { seq: 1, bootId: 'boot-A', flows };
  const r = validateBatch(batch, ctx, limits);
  return r.ok ? 'ok' : r.message;
}

t.test('a valid flow: every statistic converted, absent ones 0, a missing direction all zeros', async (t) => {
  const r = validateBatch({ seq: 1, bootId: 'boot-A', flows: [flow(), flow({ bwd: null, app: { tlsSni: 'a.example', tlsAlpn: ['h2'] } })] }, ctx, limits);
  if (!r.ok) throw new Error(r.message);
  const [a, b] = r.batch.flows;
  t.same(a.fwd, {
    packets: 3, ipBytes: 180, payloadBytes: 0, headerBytes: 0, tcpFlags: 2, synCount: 0, finCount: 0, rstCount: 0, pshCount: 0,
    ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 60.5, lenM2: 0, iatCount: 0, iatMinUs: 0,
    iatMaxUs: 2 ** 53 - 1, iatMeanUs: 0, iatM2Us: 0,
  });
  t.equal(a.bwd.synCount, 1);
  t.equal(a.app, null, 'no application names: null');
  t.equal(Object.values(b.bwd).every((v) => v === 0), true);
  t.same(b.app, { tls_sni: 'a.example', tls_alpn: ['h2'] });
  const empty = validateBatch({ seq: 1, bootId: 'boot-A', flows: [flow({ app: { tlsSni: '', dnsAnswers: [] } })] }, ctx, limits);
  t.equal(empty.ok && empty.batch.flows[0].app, null, 'application info without names: null');
});

t.test('a bad statistic is named by flow, direction and wire field', async (t) => {
  t.equal(check([flow(), flow({ fwd: { packets: 1, lenMean: Infinity } })]), 'flows[1].fwd.len_mean: not a valid number (Infinity)');
  t.equal(check([flow({ bwd: { packets: 1, iatCount: -4 } })]), 'flows[0].bwd.iat_count: not a valid number (-4)');
  t.equal(check([flow({ fwd: { packets: 1, synCount: 2 ** 32 } })]), 'flows[0].fwd.syn_count: not a valid number (4294967296)');
  t.equal(check([flow({ bwd: { packets: 1, tcpFlags: 0x10000 } })]), 'flows[0].bwd.tcp_flags: 65536 is not a TCP flag set');
  t.equal(check([flow({ fwd: null, bwd: null })]), 'flows[0]: fwd and bwd are both missing (packet counts are required)');
  t.equal(check([flow({ dstAddr: new Uint8Array(3) })]), 'flows[0].dst_addr: length 3 bytes, want 4 (IPv4) or 16 (IPv6)');
  t.equal(check([flow({ recordSeq: -1 })]), 'flows[0].record_seq: not a valid number');
  // large finite values whose sum overflows are still valid
  t.equal(check([flow({ fwd: { packets: 1, lenMean: 1.7e308, lenM2: 1.7e308, iatMeanUs: -1.7e308, iatM2Us: -1.7e308 } })]), 'ok');
});
