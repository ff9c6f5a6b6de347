// The behaviour every Store must have, run against each implementation (sqlite-store.test.ts,
// postgres-store.test.ts). `open` gives a fresh, empty store and a way to read its tables with plain
// SQL (the same column names in both schemas), so the checks see what was really written.
import type { Test } from 'tap';
import type { BatchRecord, FlowRow, NewAlert } from '../../../collector/model';
import type { Store } from '../../../collector/store';

export interface OpenedStore {
  store: Store;
  /** Rows of a query without parameters, numbers as numbers. */
  rows(sql: string): Promise<Array<Record<string, unknown>>>;
}

const zero = {
  packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
  pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
  iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0,
};

export function row(flowId: number, seq = 1): FlowRow {
  return {
    agentId: 'gw1', bootId: 'b1', seq, flowId, recordSeq: 0, recordType: 'final', communityId: '1:abc=', connState: 'S1',
    app: { dns_query: 'example.org' }, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, proto: 6,
    vlan: null, firstUs: 1_700_000_000_500_000, lastUs: 1_700_000_001_000_000, endReason: 'idle',
    fwd: { ...zero, packets: 2, ipBytes: 100, tcpFlags: 0x02 }, bwd: { ...zero, packets: 1, ipBytes: 60, tcpFlags: 0x12 },
  };
}

export function batch(seq: number, flows: FlowRow[], agentId = 'gw1'): BatchRecord {
  return { agentId, bootId: 'b1', seq, receivedUs: 1_700_000_002_000_000, flows: flows.map((f) => ({ ...f, agentId })) };
}

export const alert: NewAlert = {
  category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: '10.0.0.1', dst_ip: '10.0.0.2',
  dst_port: null, first_ts: 1.5, last_ts: 2.5, score: 5, threshold: 5, evidence: { ports: [1, 2] },
};

async function count(s: OpenedStore, sql: string): Promise<number> {
  return Number((await s.rows(sql))[0].n);
}

export function storeContract(t: Test, open: (t: Test) => Promise<OpenedStore>): void {
  t.test('putBatch: stored once, duplicate after; all-or-nothing', async (t) => {
    const s = await open(t);
    const { store } = s;
    t.equal(await store.putBatch(batch(1, [row(1), row(2)])), 'stored');
    t.equal(await store.putBatch(batch(1, [row(3)])), 'duplicate');
    t.equal(await count(s, 'SELECT count(*) AS n FROM flows'), 2);
    t.match((await s.rows('SELECT * FROM flows WHERE flow_id = 1'))[0],
      { first_ts: 1_700_000_000.5, last_ts: 1_700_000_001, tcp_flags: 0x12, end_reason: 'idle', fwd_packets: 2, bwd_packets: 1 });
    t.same(await s.rows('SELECT last_seen_us FROM agents'), [{ last_seen_us: 1_700_000_002_000_000 }]);

    // A batch that fails half-way leaves nothing behind (flow with a NOT NULL column missing).
    const broken = row(10);
    (broken as unknown as { srcIp: null }).srcIp = null;
    await t.rejects(store.putBatch(batch(2, [row(9), broken])), { code: 'COLL_ERR_STORE_WRITE' });
    t.equal(await count(s, 'SELECT count(*) AS n FROM batches WHERE seq = 2'), 0);
    t.equal(await count(s, 'SELECT count(*) AS n FROM flows WHERE flow_id = 9'), 0);
    t.equal(await store.putBatch(batch(2, [row(9)])), 'stored', 'and the retry stores it');

    // A long flow's next record (interim, then final) is a row of its own. (A record is sent in one batch
    // only, so the batch key alone keeps it stored once; SQLite keeps no per-record key since migration 6.)
    t.equal(await store.putBatch(batch(3, [{ ...row(1, 3), recordSeq: 1, lastUs: 1_700_000_009_000_000 }])), 'stored');
    t.same(await s.rows('SELECT record_seq, seq, last_ts FROM flows WHERE flow_id = 1 ORDER BY record_seq'),
      [{ record_seq: 0, seq: 1, last_ts: 1_700_000_001 }, { record_seq: 1, seq: 3, last_ts: 1_700_000_009 }]);
    t.match((await s.rows('SELECT community_id, conn_state, app_json, record_type FROM flows WHERE flow_id = 2'))[0],
      { community_id: '1:abc=', conn_state: 'S1', app_json: '{"dns_query":"example.org"}', record_type: 'final' });
    t.equal(await store.putBatch(batch(5, [])), 'stored', 'an empty batch is a batch too');
    t.equal(await store.putBatch(batch(5, [])), 'duplicate');
  });

  t.test('putBatch called concurrently (several agents at once): each batch stands or fails alone', async (t) => {
    const s = await open(t);
    const broken = row(21);
    (broken as unknown as { srcIp: null }).srcIp = null;
    const settled = await Promise.allSettled([
      s.store.putBatch(batch(10, [row(20)])),
      s.store.putBatch(batch(11, [row(22), broken])),
      s.store.putBatch(batch(10, [row(20)])), // the same batch again, e.g. resent on a second connection
      s.store.putBatch(batch(10, [row(23), row(24)], 'gw2')),
    ]);
    const outcome = settled.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as { code?: string }).code));
    t.same(outcome[1], 'COLL_ERR_STORE_WRITE', 'the broken batch fails');
    t.same([outcome[0], outcome[2]].sort(), ['duplicate', 'stored'], 'one copy stored, the other a duplicate');
    t.equal(outcome[3], 'stored');
    t.same(await s.rows('SELECT agent_id, flow_id FROM flows ORDER BY agent_id, flow_id'),
      [{ agent_id: 'gw1', flow_id: 20 }, { agent_id: 'gw2', flow_id: 23 }, { agent_id: 'gw2', flow_id: 24 }]);
    t.equal(await count(s, 'SELECT count(*) AS n FROM batches WHERE seq = 11'), 0, 'nothing of the broken batch');
  });

  t.test('alerts: ids grow, alertsSince pages in id order, filters, JSON evidence round-trips', async (t) => {
    const { store } = await open(t);
    const a1 = await store.putAlert(alert, 100.25);
    const a2 = await store.putAlert({ ...alert, dst_ip: '10.0.0.3', severity: 'high', category: 'brute_force' }, 101);
    const a3 = await store.putAlert({ ...alert, agent_id: 'gw2' }, 102);
    t.ok(a1.id < a2.id && a2.id < a3.id);
    t.equal(a1.ts, 100.25);
    t.same(await store.alertsSince(0, 10), [a1, a2, a3]);
    t.same((await store.alertsSince(a1.id, 1)).map((a) => a.id), [a2.id]);
    t.same(await store.alertsSince(a3.id, 10), []);
    t.same((await store.alertsSince(0, 10, { severities: ['high'] })).map((a) => a.id), [a2.id]);
    t.same((await store.alertsSince(0, 10, { agents: ['gw2'] })).map((a) => a.id), [a3.id]);
    t.same((await store.alertsSince(0, 10, { hosts: ['10.0.0.3'] })).map((a) => a.id), [a2.id]);
    t.same((await store.alertsSince(0, 10, { hosts: ['10.0.0.1'], categories: ['port_scan'] })).map((a) => a.id), [a1.id, a3.id]);
    t.same(await store.alertsSince(0, 10, { categories: [] }), [], 'an empty list matches nothing');

    t.same((await store.queryAlerts({ limit: 10 })).map((a) => a.id), [a3.id, a2.id, a1.id], 'newest first');
    t.same((await store.queryAlerts({ limit: 10, beforeId: a3.id })).map((a) => a.id), [a2.id, a1.id]);
    t.same((await store.queryAlerts({ limit: 10, sinceTs: 101 })).map((a) => a.id), [a3.id, a2.id]);
    t.same((await store.queryAlerts({ limit: 1, filter: { categories: ['port_scan'] } })).map((a) => a.id), [a3.id]);
    t.same(await store.alertById(a2.id), a2);
    t.equal(await store.alertById(a3.id + 100), undefined);
    t.same(await store.alertCounts(), [{ category: 'brute_force', count: 1, lastTs: 101 }, { category: 'port_scan', count: 2, lastTs: 102 }]);
  });

  t.test('touchAgent keeps identity fields and the latest last_seen; silent_since_us set and cleared', async (t) => {
    const s = await open(t);
    const { store } = s;
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 10, bootId: 'b1', hostname: 'h', softwareVersion: 'v', source: 'eth0' });
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 20, health: { flows_active: 3 } });
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 15 });
    t.same(await s.rows('SELECT * FROM agents'), [{
      agent_id: 'gw1', last_seen_us: 20, boot_id: 'b1', hostname: 'h', software_version: 'v', source: 'eth0', health_json: '{"flows_active":3}',
      silent_since_us: null,
    }]);
    // Marked silent (agent-health.ts), then heard again: the mark is set, then cleared; nothing else moves.
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 5, silentSinceUs: 30 });
    t.match((await s.rows('SELECT last_seen_us, silent_since_us, hostname FROM agents'))[0], { last_seen_us: 20, silent_since_us: 30, hostname: 'h' });
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 40 });
    t.match((await s.rows('SELECT last_seen_us, silent_since_us FROM agents'))[0], { last_seen_us: 40, silent_since_us: null });
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 50, silentSinceUs: 45 });
    await store.putBatch(batch(1, [row(1)]));
    t.match((await s.rows('SELECT silent_since_us FROM agents'))[0], { silent_since_us: null }, 'a stored batch clears it too');
  });

  t.test('dashboard queries: agents, top talkers, traffic, evidence, latest flow', async (t) => {
    const { store } = await open(t);
    t.equal(await store.latestFlowTs(), undefined);
    t.same(await store.topTalkers(0, 2e9, 10), []);
    const big = { ...row(2), srcIp: '10.0.0.9', dstIp: '10.0.0.2', firstUs: 1_700_000_030_000_000, lastUs: 1_700_000_031_000_000 };
    await store.putBatch(batch(1, [row(1), big]));
    await store.putBatch({ ...batch(2, [{ ...row(7, 2), firstUs: 1_700_000_100_000_000, lastUs: 1_700_000_200_000_000 }]), receivedUs: 1_700_000_050_000_000 });
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 1, hostname: 'edge', health: { packets_received: 9 } });
    await store.touchAgent({ agentId: 'gw0', lastSeenUs: 1 });
    t.equal(await store.latestFlowTs(), 1_700_000_200);

    t.same(await store.topTalkers(1_700_000_000, 1_700_000_060, 2), [
      { ip: '10.0.0.2', bytes: 320, packets: 6, flows: 2 },
      { ip: '10.0.0.1', bytes: 160, packets: 3, flows: 1 },
    ]);
    t.same(await store.traffic(1_700_000_000, 1_700_000_300, 60), [
      { ts: 1_700_000_000, bytes: 320, packets: 6, flows: 2 },
      { ts: 1_700_000_060, bytes: 160, packets: 3, flows: 1 },
    ]);

    const agents = await store.agents(1_700_000_060_000_000, 30_000_000);
    t.same(agents.map((a) => a.agentId), ['gw0', 'gw1'], 'by id');
    t.match(agents[1], { lastSeenUs: 1_700_000_050_000_000, hostname: 'edge', health: { packets_received: 9 }, recentFlows: 1, recentPackets: 3 });
    t.match(agents[0], { recentFlows: 0, recentPackets: 0, health: null });

    const a = await store.putAlert({ ...alert, first_ts: 1_700_000_000, last_ts: 1_700_000_031, evidence: { flow_ids: [1, 2, 'x'] } }, 5);
    const flows = await store.evidenceFlows(a, 10);
    t.same(flows.map((f) => f.flowId), [1, 2]);
    t.match(flows[0], { agentId: 'gw1', bootId: 'b1', recordSeq: 0, srcIp: '10.0.0.1', fwdBytes: 100, bwdBytes: 60, tcpFlags: 0x12, app: { dns_query: 'example.org' } });
    t.same(await store.evidenceFlows({ ...a, first_ts: 1_800_000_000, last_ts: 1_800_000_001 }, 10), [], 'another time window: another boot');
  });

  t.test('enrolment tokens and credentials', async (t) => {
    const { store } = await open(t);
    const token = { tokenId: 't1', secretSha256: 'aa', name: '', createdUs: 1, expiresUs: 1000, usedUs: null, usedBy: null };
    await store.putEnrolToken(token);
    await store.putEnrolToken({ ...token, tokenId: 't2' });
    await store.putEnrolToken({ ...token, tokenId: 't3', expiresUs: 5 });
    await t.rejects(store.putEnrolToken(token), { code: 'COLL_ERR_STORE_WRITE' }, 'a token id is unique');
    t.same(await store.enrolToken('t1'), token);
    t.equal(await store.enrolToken('nope'), undefined);
    const cred = { agentId: 'gw7', secretSha256: 'bb', tokenId: 't1', enrolledUs: 10, hostname: 'h7', revokedUs: null };
    t.equal(await store.redeemEnrolToken('t1', cred), 'ok');
    t.equal(await store.redeemEnrolToken('t1', { ...cred, agentId: 'gw8' }), 'used');
    t.equal(await store.redeemEnrolToken('t2', { ...cred, tokenId: 't2' }), 'agent_exists');
    t.equal(await store.redeemEnrolToken('t3', { ...cred, agentId: 'gw9', tokenId: 't3' }), 'expired');
    t.match(await store.enrolToken('t1'), { usedUs: 10, usedBy: 'gw7' });
    t.match(await store.enrolToken('t2'), { usedUs: null }, 'a refused redeem writes nothing');
    t.same(await store.agentCredential('gw7'), cred);
    t.equal(await store.revokeAgentCredential('gw7', 20), true);
    t.equal(await store.revokeAgentCredential('gw7', 21), false);
    t.equal(await store.revokeAgentCredential('nobody', 21), false);
    t.equal(await store.redeemEnrolToken('t2', { ...cred, tokenId: 't2', secretSha256: 'cc' }), 'ok', 'a revoked id can enrol again');
    t.same(await store.agentCredential('gw7'), { ...cred, tokenId: 't2', secretSha256: 'cc' });
    await store.touchAgent({ agentId: 'gw1', lastSeenUs: 5, hostname: 'seen', softwareVersion: '1.0' });
    t.same(await store.listAgents(), [
      { agentId: 'gw1', credential: null, lastSeenUs: 5, hostname: 'seen', softwareVersion: '1.0' },
      { agentId: 'gw7', credential: { ...cred, tokenId: 't2', secretSha256: 'cc' }, lastSeenUs: null, hostname: null, softwareVersion: null },
    ]);
  });

  t.test('audit chain: append, a taken seq refused, entries in order, last by kind', async (t) => {
    const { store } = await open(t);
    const e = (seq: number, kind: string) => ({ seq, ts: seq + 0.5, kind, payloadJson: `{"n":${seq}}`, prevHash: `p${seq}`, hash: `h${seq}` });
    t.equal(await store.lastAudit(), undefined);
    for (const [seq, kind] of [[1, 'alert'], [2, 'config_loaded'], [3, 'alert']] as const) await store.appendAudit(e(seq, kind));
    await t.rejects(store.appendAudit(e(2, 'alert')), { code: 'COLL_ERR_STORE_WRITE' });
    t.same(await store.auditEntries(1, 10), [e(2, 'config_loaded'), e(3, 'alert')]);
    t.same(await store.auditEntries(0, 1), [e(1, 'alert')]);
    t.same(await store.lastAudit(), e(3, 'alert'));
    t.same(await store.lastAudit('config_loaded'), e(2, 'config_loaded'));
  });
}
