// The agent protocol over real sockets: auth at the upgrade, hello, batches, acks after commit,
// duplicates, bad frames, oversized frames, invalid batches.
import t from 'tap';
import Database from 'better-sqlite3';
import { AckStatus, ErrorCode, encodeAgentMessage } from '../../../proto';
import {
  TOKENS,
  TestAgent,
  batchFrame,
  delay,
  fetchText,
  flow,
  helloFrame,
  metricValue,
  startTestCollector,
  upgradeStatus,
} from '../helpers';

t.test('token auth at the upgrade', async (t) => {
  const c = await startTestCollector(t);
  t.equal(await upgradeStatus(c.url('/v1/agent')), 401, 'no token → 401');
  t.equal(await upgradeStatus(c.url('/v1/agent'), { Authorization: 'Bearer wrong' }), 401, 'wrong token → 401');
  t.equal(await upgradeStatus(c.url('/v1/agent'), { Authorization: `Bearer ${TOKENS.soc}` }), 401, 'a subscriber token is not an agent token');
  t.equal(await upgradeStatus(c.url('/v1/agent?token=' + TOKENS.gw1)), 401, 'agents may not put the token in the URL');
  t.equal(await upgradeStatus(c.url('/v1/nope'), { Authorization: `Bearer ${TOKENS.gw1}` }), 404, 'unknown path → 404');
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'auth_failures_total{endpoint="agent"}'), 4);

  const a = await TestAgent.connect(c.port, TOKENS.gw1);
  a.send(helloFrame('gw1'));
  const w = await a.next();
  t.ok(w.welcome, 'right token → welcome');
  t.equal(w.welcome?.protocolVersion, 1);
  t.equal(w.welcome?.maxFrameBytes, 16 * 1024 * 1024);
  t.equal(w.welcome?.maxFlowsPerBatch, 10_000);
  a.close();
});

t.test('hello for another agent → AGENT_MISMATCH and close 1008', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.connect(c.port, TOKENS.gw1);
  a.send(helloFrame('gw2'));
  const e = await a.next();
  t.equal(e.error?.code, ErrorCode.ERROR_CODE_AGENT_MISMATCH);
  t.match(e.error?.message, /gw2.*gw1/);
  t.equal((await a.closed).code, 1008);
});

t.test('unsupported protocol version → UNSUPPORTED_VERSION and close 1008', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.connect(c.port, TOKENS.gw1);
  a.send(helloFrame('gw1', 'b', 2));
  t.equal((await a.next()).error?.code, ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION);
  t.equal((await a.closed).code, 1008);
});

t.test('batch before hello → NO_HELLO, connection kept', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.connect(c.port, TOKENS.gw1);
  a.send(batchFrame(1, [flow()]));
  const e = await a.next();
  t.equal(e.error?.code, ErrorCode.ERROR_CODE_NO_HELLO);
  t.equal(e.error?.seq, 1);
  a.send(helloFrame('gw1'));
  t.ok((await a.next()).welcome, 'hello still works afterwards');
  a.close();
});

t.test('a stored batch is acked only once its rows are in the SQLite file', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.ready(c.port, 'gw1', 'boot-A');
  const flows = [flow({ dstPort: 22 }), flow({ dstPort: 443, src: '192.168.1.5' })];
  a.send(batchFrame(1, flows, 'boot-A'));
  const ack = await a.next();
  // Read through a second, independent connection the moment the ack arrives.
  const db = new Database(c.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.equal(ack.ack?.status, AckStatus.ACK_STATUS_STORED);
  t.equal(ack.ack?.seq, 1);
  t.equal(ack.ack?.bootId, 'boot-A');
  t.equal(ack.ack?.flowsStored, 2);
  t.same(db.prepare('SELECT agent_id, boot_id, seq, flow_count FROM batches').all(), [
    { agent_id: 'gw1', boot_id: 'boot-A', seq: 1, flow_count: 2 },
  ]);
  const rows = db.prepare('SELECT * FROM flows ORDER BY dst_port').all() as Array<Record<string, unknown>>;
  t.equal(rows.length, 2);
  t.match(rows[0], {
    agent_id: 'gw1', boot_id: 'boot-A', seq: 1, src_ip: '10.0.0.1', dst_ip: '10.0.0.2', src_port: 40000, dst_port: 22,
    proto: 6, vlan: null, fwd_packets: 1, bwd_packets: 1, tcp_flags: 0x16, end_reason: 'end_of_flow',
  });
  t.equal(rows[0].first_ts, 1_700_000_000, 'first_ts in seconds');
  t.equal(rows[1].src_ip, '192.168.1.5');
  const stats = JSON.parse(rows[0].stats_json as string);
  t.equal(stats.fwd.syn_count, 1);
  t.equal(stats.bwd.rst_count, 1);
  const agent = db.prepare('SELECT * FROM agents').get() as Record<string, unknown>;
  t.match(agent, { agent_id: 'gw1', boot_id: 'boot-A', hostname: 'gw-host', software_version: '0.1.0', source: 'eth0' });
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  a.close();
});

t.test('the same (boot_id, seq) again → DUPLICATE, no double rows', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.ready(c.port, 'gw1');
  const frame = batchFrame(7, [flow(), flow()]);
  a.send(frame);
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  a.send(frame);
  const dup = await a.next();
  t.equal(dup.ack?.status, AckStatus.ACK_STATUS_DUPLICATE);
  t.equal(dup.ack?.seq, 7);
  t.equal(dup.ack?.flowsStored, 0);
  a.close();
  // A reconnect (same boot) resending it is a duplicate too.
  const b = await TestAgent.ready(c.port, 'gw1');
  b.send(frame);
  t.equal((await b.next()).ack?.status, AckStatus.ACK_STATUS_DUPLICATE);
  // A new boot with the same seq is a different batch.
  const d = await TestAgent.ready(c.port, 'gw1', 'boot-2');
  d.send(batchFrame(7, [flow()], 'boot-2'));
  t.equal((await d.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  // An agent restarted with batches from its earlier boot in its spool resends them under their own
  // boot id: a repeat is recognised, and the ack names the batch's boot.
  d.send(frame);
  const old = await d.next();
  t.equal(old.ack?.status, AckStatus.ACK_STATUS_DUPLICATE, 'an earlier boot\'s batch resent on a new connection: DUPLICATE');
  t.equal(old.ack?.bootId, 'boot-1', 'ack names the batch\'s boot, not the connection\'s');
  const db = new Database(c.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.equal((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, 3);
  t.equal((db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n, 2);
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'batches_duplicate_total'), 3);
  t.equal(metricValue(m.body, 'batches_stored_total'), 2);
  b.close();
  d.close();
});

t.test('garbage and text frames → coded errors; the connection and others keep working', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.ready(c.port, 'gw1');
  a.send(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
  const e1 = await a.next();
  t.equal(e1.error?.code, ErrorCode.ERROR_CODE_BAD_FRAME);
  t.match(e1.error?.message, /not a decodable AgentMessage/);
  a.send(Buffer.from('hello world garbage'));
  t.equal((await a.next()).error?.code, ErrorCode.ERROR_CODE_BAD_FRAME);
  a.send(Buffer.alloc(0));
  t.equal((await a.next()).error?.code, ErrorCode.ERROR_CODE_BAD_FRAME, 'empty AgentMessage');
  a.send('{"batch": 1}');
  t.equal((await a.next()).error?.code, ErrorCode.ERROR_CODE_TEXT_FRAME);
  a.send(batchFrame(1, [flow()]));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED, 'good batch on the same connection');
  const b = await TestAgent.ready(c.port, 'gw2');
  b.send(batchFrame(1, [flow()]));
  t.equal((await b.next()).ack?.status, AckStatus.ACK_STATUS_STORED, 'and on another connection');
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'bad_frames_total{code="BAD_FRAME"}'), 3);
  t.equal(metricValue(m.body, 'bad_frames_total{code="TEXT_FRAME"}'), 1);
  a.close();
  b.close();
});

t.test('a frame over max_frame_bytes closes that connection with 1009; another agent keeps working', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: { max_frame_bytes: 64 * 1024 } } });
  const big = await TestAgent.ready(c.port, 'gw1');
  const other = await TestAgent.ready(c.port, 'gw2');
  big.send(Buffer.alloc(64 * 1024 + 1, 0x0a));
  t.equal((await big.closed).code, 1009);
  other.send(batchFrame(1, [flow()]));
  t.equal((await other.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'bad_frames_total{code="TOO_LARGE"}'), 1);
  other.close();
});

t.test('an invalid batch → INVALID_BATCH naming the flow and field; connection kept', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: { max_flows_per_batch: 3 } } });
  const a = await TestAgent.ready(c.port, 'gw1');
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['bad address length', batchFrame(1, [flow(), flow({ srcAddr: new Uint8Array(5) })]), /^flows\[1\]\.src_addr: length 5 bytes/],
    ['mixed families', batchFrame(2, [flow({ dstAddr: new Uint8Array(16) })]), /^flows\[0\]\.dst_addr: IPv6 but src_addr is IPv4/],
    ['port over 65535', batchFrame(3, [flow({ dstPort: 70000 })]), /^flows\[0\]\.dst_port: 70000/],
    ['protocol over 255', batchFrame(4, [flow({ protocol: 300 })]), /^flows\[0\]\.protocol/],
    ['last before first', batchFrame(5, [flow({ firstUs: 1_700_000_000_000_000, lastUs: 1_600_000_000_000_000 })]), /^flows\[0\]\.last_us: .* before first_us/],
    ['implausible time', batchFrame(6, [flow({ firstUs: 5, lastUs: 6 })]), /^flows\[0\]\.first_us: 5 is not a plausible time/],
    ['future time', batchFrame(7, [flow({ firstUs: Date.now() * 1000 + 3 * 86400e6 })]), /^flows\[0\]\.first_us/],
    ['no packet counts', batchFrame(8, [flow({ fwd: {}, bwd: null })]), /^flows\[0\]\.fwd\.packets/],
    ['seq 0', batchFrame(0, [flow()]), /^seq: must be an integer >= 1/],
    ['empty boot id', batchFrame(9, [flow()], ''), /^boot_id: must be 1–128 characters/],
    ['too many flows', batchFrame(10, [flow(), flow(), flow(), flow()]), /^flows: 4 flows, more than max_flows_per_batch 3/],
  ];
  for (const [name, frame, re] of cases) {
    a.send(frame);
    const e = await a.next();
    t.equal(e.error?.code, ErrorCode.ERROR_CODE_INVALID_BATCH, `${name}: INVALID_BATCH`);
    t.match(e.error?.message, re, `${name}: message names the field`);
  }
  a.send(batchFrame(11, [flow()]));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED, 'connection still usable');
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'bad_frames_total{code="INVALID_BATCH"}'), cases.length);
  const db = new Database(c.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.equal((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, 1, 'nothing of the invalid batches stored');
  a.close();
});

t.test('IPv6 flows, VLANs and heartbeats are stored', async (t) => {
  const c = await startTestCollector(t);
  const a = await TestAgent.ready(c.port, 'gw1');
  const v6 = new Uint8Array(16);
  v6[0] = 0x20; v6[1] = 0x01; v6[2] = 0x0d; v6[3] = 0xb8; v6[15] = 1;
  const f = { ...flow({ srcAddr: v6, dstAddr: v6, protocol: 17 }), hasVlan: true, vlanId: 42 };
  a.send(batchFrame(1, [f]));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  a.send(encodeAgentMessage({ heartbeat: { sentUs: Date.now() * 1000, packetsReceived: 1234, flowsActive: 7 } }));
  await delay(100);
  const db = new Database(c.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.match(db.prepare('SELECT src_ip, vlan, proto FROM flows').get(), { src_ip: '2001:db8::1', vlan: 42, proto: 17 });
  const health = JSON.parse((db.prepare('SELECT health_json FROM agents').get() as { health_json: string }).health_json);
  t.match(health, { packets_received: 1234, flows_active: 7, packets_dropped: 0 });
  a.close();
});

t.test('max_connections_per_ip: over the limit → 429 before auth; freed slots are reusable', async (t) => {
  const c = await startTestCollector(t, { extra: { limits: { max_connections_per_ip: 2 } } });
  const a = await TestAgent.ready(c.port, 'gw1');
  const b = await TestAgent.ready(c.port, 'gw2');
  t.equal(await upgradeStatus(c.url('/v1/agent'), { Authorization: `Bearer ${TOKENS.gw1}` }), 429);
  t.equal(await upgradeStatus(c.url('/v1/agent')), 429, 'checked before the token');
  a.close();
  await a.closed;
  await delay(50);
  const again = await TestAgent.ready(c.port, 'gw1');
  t.ok(again, 'a slot is free again after a close');
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'connections_rejected_total{reason="per_ip_limit"}'), 2);
  b.close();
  again.close();
});

t.test('500 random frames do not break the connection or the collector', async (t) => {
  const c = await startTestCollector(t, { extra: { store: { synchronous: 'normal' } } });
  const a = await TestAgent.ready(c.port, 'gw1');
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 500; i++) {
    const bytes = Buffer.alloc(1 + Math.floor(rnd() * 200));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
    if (i % 3 === 0) bytes[0] = 0x12; // field 2 (batch), length-delimited: exercises validation
    a.send(bytes);
  }
  a.send(batchFrame(999_999, [flow()]));
  for (;;) {
    const r = await a.next();
    if (r.ack) {
      t.equal(r.ack.seq, 999_999);
      break;
    }
  }
  t.equal((await fetchText(`http://127.0.0.1:${c.port}/healthz`)).status, 200);
  a.close();
});
