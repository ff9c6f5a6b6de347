// Partitioning by the flow's source address, and the deterministic ids that make JetStream drop repeats.
import t from 'tap';
import { partitionOf, splitByPartition } from '../../../collector/cluster/partition';
import { alertKey, decodePart, encodePart, partMsgId } from '../../../collector/cluster/codec';
import type { FlowRow, NewAlert } from '../../../collector/model';

t.test('partitionOf: FNV-1a of the address text, stable and spread', async (t) => {
  t.equal(partitionOf('10.0.0.1', 16), partitionOf('10.0.0.1', 16), 'same host, same partition');
  t.equal(partitionOf('', 7), 0x811c9dc5 % 7, 'empty text is the FNV offset basis');
  const counts = new Array(8).fill(0);
  for (let i = 0; i < 8000; i++) counts[partitionOf(`10.${i >> 8}.${i & 255}.7`, 8)]++;
  t.ok(counts.every((c) => c > 700 && c < 1300), `8,000 hosts spread over 8 partitions: ${counts.join(' ')}`);
});

t.test('splitByPartition keeps every flow of one source together, in order', async (t) => {
  const flows = ['10.0.0.1', '10.0.0.2', '10.0.0.1', '192.0.2.9', '10.0.0.1'].map((srcIp, i) => ({ srcIp, flowId: i }) as FlowRow);
  const parts = splitByPartition(flows, 4);
  t.equal([...parts.values()].reduce((n, l) => n + l.length, 0), flows.length, 'no flow lost or doubled');
  const of1 = parts.get(partitionOf('10.0.0.1', 4))!.filter((f) => f.srcIp === '10.0.0.1').map((f) => f.flowId);
  t.same(of1, [0, 2, 4]);
});

t.test('message ids and alert keys are deterministic', async (t) => {
  const part = { agentId: 'gw1', bootId: 'b1', seq: 42, part: 3, receivedUs: 1, flows: [] };
  t.equal(partMsgId(part), 'gw1.b1.42.3');
  t.same(decodePart(encodePart(part)), part, 'a part survives the round trip');
  const a: NewAlert = { category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: '10.0.0.1', dst_ip: '192.0.2.10',
    dst_port: null, first_ts: 1000, last_ts: 1001, score: 40, threshold: 5, evidence: { ports: [1, 2] } };
  t.equal(alertKey(a), alertKey({ ...a, last_ts: 1500, score: 41, evidence: {} }), 'the same detection (a later view of it) has the same key');
  t.not(alertKey(a), alertKey({ ...a, first_ts: 2000 }), 'another window start, another key');
  t.not(alertKey(a), alertKey({ ...a, agent_id: 'gw2' }), 'another agent, another key');
  t.match(alertKey(a), /^[0-9a-f]{32}$/);
});
