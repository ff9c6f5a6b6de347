import t from 'tap';
import { EVIDENCE_FLOWS, FlowEvidence, flowRef, LastFlows } from '../../../collector/detect/evidence';
import { flow, SEC, T0 } from './flows';

const flows = Array.from({ length: EVIDENCE_FLOWS + 5 }, (_, i) => flow({ srcIp: `10.0.0.${i + 1}`, dstPort: 1000 + i, firstUs: T0 + i * SEC }));

t.test('FlowEvidence keeps the first flows, counts them all', async (t) => {
  const ev = new FlowEvidence();
  for (const f of flows) ev.add(f);
  t.equal(ev.count, flows.length);
  t.same(ev.flows, flows.slice(0, EVIDENCE_FLOWS).map(flowRef));
  ev.clear();
  ev.add(flows[3]);
  t.same(ev.flows, [flowRef(flows[3])], 'after clear, only what came since');
});

t.test('LastFlows keeps the last flows, oldest first, through wrapping and clear', async (t) => {
  const last = new LastFlows();
  t.same(last.flows, []);
  for (const f of flows.slice(0, 3)) last.add(f);
  t.same(last.flows, flows.slice(0, 3).map(flowRef), 'fewer than EVIDENCE_FLOWS: all of them');
  for (const f of flows.slice(3)) last.add(f);
  t.same(last.flows, flows.slice(-EVIDENCE_FLOWS).map(flowRef), 'the ring wrapped: the last EVIDENCE_FLOWS, oldest first');
  last.clear();
  for (const f of flows.slice(0, 2)) last.add(f);
  t.same(last.flows, flows.slice(0, 2).map(flowRef), 'after clear, only what came since');
});

t.test('kept lists grow as flows come (room for 2, then for EVIDENCE_FLOWS): every length keeps the right flows', async (t) => {
  for (let n = 1; n <= flows.length; n++) {
    const ev = new FlowEvidence();
    const last = new LastFlows();
    for (const f of flows.slice(0, n)) {
      ev.add(f);
      last.add(f);
    }
    t.same(ev.flows, flows.slice(0, Math.min(n, EVIDENCE_FLOWS)).map(flowRef), `FlowEvidence after ${n}`);
    t.same(last.flows, flows.slice(Math.max(0, n - EVIDENCE_FLOWS), n).map(flowRef), `LastFlows after ${n}`);
  }
});
