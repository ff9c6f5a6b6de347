import t from 'tap';
import { join } from 'node:path';
import { captureRecords } from '../../helpers/capture-records';
import { FlowKeys, ipv4Key } from '../../../collector/detect/flow-keys';
import { agentMessageBody } from '../../../collector/ingest/agent-message';
import { decodeBatch, type ValidationResult } from '../../../collector/ingest/validate';
import { WireError } from '../../../collector/ingest/wire-reader';
import { AgentMessage, END_REASON_NAMES, encodeAgentMessage, formatAddress, type IFlowBatch, type IFlowRecord } from '../../../proto';

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

/** The batch as the agent sends it: an encoded AgentMessage, decoded where its body lies. */
function decode(batch: IFlowBatch, l = limits): ValidationResult {
  return decodeBytes(Buffer.from(encodeAgentMessage({ batch })), l);
}

function decodeBytes(bytes: Buffer, l = limits): ValidationResult {
  const body = agentMessageBody(bytes);
  if (!body.batchOnly) throw new Error('not a batch-only AgentMessage');
  return decodeBatch(bytes, body.start, body.end, ctx, l);
}

function check(flows: IFlowRecord[]): string {
  const r = decode({ seq: 1, bootId: 'boot-A', flows });
  return r.ok ? 'ok' : r.message;
}

t.test('a valid flow: every statistic converted, absent ones 0, a missing direction all zeros', async (t) => {
  const r = decode({ seq: 1, bootId: 'boot-A', flows: [flow(), flow({ bwd: null, app: { tlsSni: 'a.example', tlsAlpn: ['h2'] } })] });
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
  t.same([a.srcIp, a.dstIp, a.srcPort, a.dstPort, a.proto, a.vlan, a.endReason, a.recordType], ['10.0.0.1', '10.0.0.2', 40000, 443, 6, null, 'idle', 'final']);
  t.same([r.batch.seq, r.batch.bootId, a.seq, a.bootId, a.agentId], [1, 'boot-A', 1, 'boot-A', 'gw1']);
  const empty = decode({ seq: 1, bootId: 'boot-A', flows: [flow({ app: { tlsSni: '', dnsQtype: null } })] });
  t.equal(empty.ok && empty.batch.flows[0].app, null, 'application info without names: null');
  const names = decode({ seq: 1, bootId: 'boot-A', flows: [flow({ app: {
    dnsQuery: 'x'.repeat(300), dnsQtype: 16, dnsAnswers: Array.from({ length: 12 }, (_, i) => `10.0.0.${i}`), httpUserAgent: 'curl/8 ✓',
  } })] });
  t.same(names.ok && names.batch.flows[0].app, {
    dns_query: 'x'.repeat(255), dns_qtype: 16, dns_answers: Array.from({ length: 8 }, (_, i) => `10.0.0.${i}`), http_user_agent: 'curl/8 ✓',
  }, 'names bounded to 255 characters, lists to 8 entries; UTF-8 kept');
});

t.test('a bad statistic is named by flow, direction and wire field', async (t) => {
  t.equal(check([flow(), flow({ fwd: { packets: 1, lenMean: Infinity } })]), 'flows[1].fwd.len_mean: not a valid number (not finite)');
  t.equal(check([flow({ bwd: { packets: 1, iatCount: -4 } })]), 'flows[0].bwd.iat_count: not a valid number (over 2^53)');
  t.equal(check([flow({ bwd: { packets: 1, tcpFlags: 0x10000 } })]), 'flows[0].bwd.tcp_flags: 65536 is not a TCP flag set');
  t.equal(check([flow({ fwd: null, bwd: null })]), 'flows[0]: fwd and bwd are both missing (packet counts are required)');
  t.equal(check([flow({ fwd: { packets: 0 }, bwd: null })]), 'flows[0].fwd.packets: fwd.packets + bwd.packets is 0');
  t.equal(check([flow({ dstAddr: new Uint8Array(3) })]), 'flows[0].dst_addr: length 3 bytes, want 4 (IPv4) or 16 (IPv6)');
  t.equal(check([flow({ srcAddr: new Uint8Array(16) })]), 'flows[0].dst_addr: IPv4 but src_addr is IPv6');
  t.equal(check([flow({ dstPort: 70000 })]), 'flows[0].dst_port: 70000 is over 65535');
  t.equal(check([flow({ protocol: 256 })]), 'flows[0].protocol: 256 is over 255');
  t.equal(check([flow({ hasVlan: true, vlanId: 5000 })]), 'flows[0].vlan_id: 5000 is over 4095');
  t.match(check([flow({ firstUs: 1000 })]), /^flows\[0\]\.first_us: 1000 is not a plausible time/);
  t.equal(check([flow({ lastUs: 1_600_000_000_000_000 })]), 'flows[0].last_us: 1600000000000000 is before first_us 1700000000000000');
  t.equal(check([flow({ lastUs: ctx.receivedUs + 61e6 })]), `flows[0].last_us: ${ctx.receivedUs + 61e6} is in the future (more than max_clock_skew_secs past now)`);
  t.equal(check([flow({ flowId: -1 })]), 'flows[0].flow_id: not a valid number');
  // large finite values whose sum overflows are still valid
  t.equal(check([flow({ fwd: { packets: 1, lenMean: 1.7e308, lenM2: 1.7e308, iatMeanUs: -1.7e308, iatM2Us: -1.7e308 } })]), 'ok');
});

t.test('batch fields: seq, boot_id, the flow limit', async (t) => {
  const msg = (b: IFlowBatch, l = limits): string => { const r = decode(b, l); return r.ok ? 'ok' : r.message; };
  t.equal(msg({ seq: 0, bootId: 'boot-A', flows: [flow()] }), 'seq: must be an integer >= 1 (got 0)');
  t.equal(msg({ seq: 1, bootId: '', flows: [flow()] }), 'boot_id: must be 1–128 characters (got 0)');
  t.equal(msg({ seq: 1, bootId: 'b'.repeat(129), flows: [flow()] }), 'boot_id: must be 1–128 characters (got 129)');
  t.equal(msg({ seq: 1, bootId: 'boot-A', flows: [flow(), flow(), flow()] }, { ...limits, maxFlowsPerBatch: 2 }), 'flows: 3 flows, more than max_flows_per_batch 2');
  const earlier = decode({ seq: 9, bootId: 'boot-0', flows: [flow()] });
  t.same(earlier.ok && [earlier.batch.bootId, earlier.batch.flows[0].bootId], ['boot-0', 'boot-0'], 'a batch of an earlier boot keeps its boot_id');
  const none = decode({ seq: 2, bootId: 'boot-A', flows: [] });
  t.same(none.ok && none.batch.flows, [], 'an empty batch is valid');
});

t.test('malformed protobuf throws WireError with the byte offset; nothing else is thrown', async (t) => {
  const good = Buffer.from(encodeAgentMessage({ batch: { seq: 1, bootId: 'boot-A', flows: [flow({ communityId: '1:abc' })] } }));
  for (let cut = 1; cut < good.length; cut++) {
    const bytes = good.subarray(0, cut);
    try {
      decodeBytes(bytes);
    } catch (err) {
      if (!(err instanceof WireError)) t.fail(`cut at ${cut}: ${String(err)}`);
      continue;
    }
  }
  t.throws(() => decodeBytes(Buffer.from([0x12, 0x03, 0x2b, 0x00, 0x00])), /wire type 3 is not used by this protocol at byte/);
  t.throws(() => decodeBytes(Buffer.from([0x12, 0x02, 0x12, 0x05])), /length 5 runs past the end of its message at byte 3/);
  t.throws(() => decodeBytes(Buffer.from([0x12, 0x03, 0x08, 0xff, 0xff])), /truncated varint at byte 5/);
  t.throws(() => decodeBytes(Buffer.from([0x12, 0x05, 0x12, 0x03, 0x61, 0xc3, 0x28])), /string is not valid UTF-8 at byte 4/);
  t.throws(() => decodeBytes(Buffer.from([0x12, 0x02, 0x0a, 0x00])), /field 1 has wire type 2, want 0/);
});

t.test('fields the collector does not keep and unknown fields are skipped', async (t) => {
  const full = flow({
    iatUs: { n: 3, min: 1, max: 5, mean: 2, m2: 1 }, earlySizes: [60, -60, 1500], earlyGapsUs: [0, 12, 2 ** 40],
    tunnelType: 2, tunnelId: 42, icmpErrors: 1, communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', connState: 'SF',
  });
  const msg = Buffer.from(encodeAgentMessage({ batch: { seq: 1, bootId: 'boot-A', flows: [full] } }));
  const body = agentMessageBody(msg);
  const batch = msg.subarray(body.start, body.end);
  // field 99 (varint), 100 (fixed32) and 101 (fixed64) appended to the batch: a newer agent's fields
  const extra = Buffer.from([0x98, 0x06, 0x05, 0xa5, 0x06, 1, 2, 3, 4, 0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]);
  const n = batch.length + extra.length;
  const bytes = Buffer.concat([Buffer.from([0x12, (n & 0x7f) | 0x80, n >> 7]), batch, extra]);
  t.ok(n >= 128 && n < 16384, 'a two-byte length');
  const r = decodeBytes(bytes);
  if (!r.ok) throw new Error(r.message);
  t.equal(r.batch.flows[0].communityId, '1:LQU9qZlK+B5F3KDmev6m5PMibrg=');
  t.equal(r.batch.flows[0].connState, 'SF');
});

t.test('the agent\'s own records of a real capture decode to what protobufjs reads from the same bytes', async (t) => {
  const records = await captureRecords(join(__dirname, '../../../../shared/pcaps/dev/fpcap__linux-cooked-unsw-nb15.pcap'));
  t.ok(records.length > 50, `${records.length} flows`);
  const bytes = Buffer.from(encodeAgentMessage({ batch: { seq: 3, bootId: 'boot-A', flows: records } }));
  const r = decodeBytes(bytes, { maxFlowsPerBatch: 1e6, maxClockSkewUs: 100 * 365 * 86400e6 });
  if (!r.ok) throw new Error(r.message);
  const ref = AgentMessage.decode(bytes).batch!.flows!;
  let same = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = r.batch.flows[i];
    const b = ref[i];
    const want = [formatAddress(b.srcAddr!), formatAddress(b.dstAddr!), b.srcPort, b.dstPort, b.protocol, b.firstUs, b.lastUs, b.flowId,
      END_REASON_NAMES[b.endReason!], b.communityId, b.connState, b.fwd?.packets ?? 0, b.bwd?.ipBytes ?? 0, b.fwd?.iatM2Us ?? 0,
      b.bwd?.lenMean ?? 0, b.fwd?.tcpFlags ?? 0, b.app?.dnsQuery || b.app?.tlsSni || b.app?.httpHost || undefined];
    const got = [a.srcIp, a.dstIp, a.srcPort, a.dstPort, a.proto, a.firstUs, a.lastUs, a.flowId, a.endReason, a.communityId, a.connState,
      a.fwd.packets, a.bwd.ipBytes, a.fwd.iatM2Us, a.bwd.lenMean, a.fwd.tcpFlags, (a.app?.dns_query ?? a.app?.tls_sni ?? a.app?.http_host) as string | undefined];
    if (JSON.stringify(got) === JSON.stringify(want)) same++;
    else t.same(got, want, `flow ${i}`);
  }
  t.equal(same, ref.length, 'every flow the same');
});

t.test('srcV4/dstV4: the IPv4 int32 the detection pre-pass would parse from the text, NaN for IPv6', async (t) => {
  const v4 = [Uint8Array.of(10, 0, 0, 1), Uint8Array.of(255, 255, 255, 255), Uint8Array.of(128, 0, 0, 0), Uint8Array.of(0, 0, 0, 0)];
  const v6 = Uint8Array.of(0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
  const mapped = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1);
  const r = decode({
    seq: 1, bootId: 'boot-A',
    flows: [...v4.map((a, i) => flow({ srcAddr: a, dstAddr: v4[(i + 1) % v4.length] })), flow({ srcAddr: v6, dstAddr: mapped })],
  });
  if (!r.ok) throw new Error(r.message);
  for (const f of r.batch.flows) {
    t.ok(Object.is(f.srcV4, ipv4Key(f.srcIp)) && Object.is(f.dstV4, ipv4Key(f.dstIp)), `${f.srcIp} → ${f.srcV4}, ${f.dstIp} → ${f.dstV4}`);
  }
  // The pre-pass gives the same keys whether it reads the numbers or parses the text (rows built elsewhere).
  const fromWire = new FlowKeys().fill(r.batch.flows);
  const parsed = new FlowKeys().fill(r.batch.flows.map(({ srcV4: _s, dstV4: _d, ...rest }) => rest));
  const n = r.batch.flows.length;
  t.same([...fromWire.srcId.subarray(0, n)], [...parsed.srcId.subarray(0, n)]);
  t.same([...fromWire.dstId.subarray(0, n)], [...parsed.dstId.subarray(0, n)]);
  t.same([...fromWire.kinds.subarray(0, n)], [...parsed.kinds.subarray(0, n)]);
  t.same(fromWire.src, parsed.src);
  // After a JSON round trip (the cluster's stream) NaN is null: parsed again, same keys.
  const json = new FlowKeys().fill(JSON.parse(JSON.stringify(r.batch.flows)));
  t.same([...json.srcId.subarray(0, n)], [...parsed.srcId.subarray(0, n)]);
  t.same([...json.kinds.subarray(0, n)], [...parsed.kinds.subarray(0, n)]);
});
