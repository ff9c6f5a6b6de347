import t from 'tap';
import { DetectRunner, type Detector } from '../../../collector/detect';
import type { FlowRow, NewAlert } from '../../../collector/model';
import { Registry } from '../../../collector/obs';
import { AckStatus } from '../../../proto';
import { TestAgent, batchFrame, captureLogger, fetchText, flow, metricValue, startTestCollector } from '../helpers';

function alertFor(flows: readonly FlowRow[], category: string): NewAlert {
  return {
    category, severity: 'low', attack_id: null, agent_id: flows[0].agentId, src_ip: null, dst_ip: null, dst_port: null,
    first_ts: 0, last_ts: 0, score: flows.length, threshold: 1, evidence: {},
  };
}

const boom: Detector = {
  name: 'boom',
  onFlows() {
    throw new Error('detector bug');
  },
};
const counting: Detector = {
  name: 'counting',
  onFlows(flows, emit) {
    emit(alertFor(flows, 'counted'));
  },
};

t.test('a throwing detector is counted and logged; the others still run', async (t) => {
  const metrics = new Registry();
  const { log, lines } = captureLogger();
  const runner = new DetectRunner([boom, counting], metrics, log);
  const flows = [{ agentId: 'gw1' } as FlowRow];
  const a1 = runner.run(flows);
  const a2 = runner.run(flows);
  t.equal(a1.length, 1);
  t.equal(a2[0].category, 'counted');
  const body = metrics.render();
  t.match(body, /detector_failures_total\{detector="boom"\} 2/);
  t.match(body, /detector_failures_total\{detector="counting"\} 0/);
  t.equal(lines.filter((l) => l.msg === 'detector failed').length, 1, 'the error log is rate-limited');
  t.equal(lines[0].detector, 'boom');
});

t.test('through the collector: a failing detector does not stop ingest or the other detectors', async (t) => {
  const c = await startTestCollector(t, { start: { detectors: [boom, counting] } });
  const a = await TestAgent.ready(c.port, 'gw1');
  a.send(batchFrame(1, [flow(), flow()]));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  a.send(batchFrame(2, [flow()]));
  t.equal((await a.next()).ack?.status, AckStatus.ACK_STATUS_STORED);
  await new Promise((r) => setTimeout(r, 50));
  t.same(c.alerts.map((x) => [x.category, x.score]), [['counted', 2], ['counted', 1]]);
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'detector_failures_total{detector="boom"}'), 2);
  t.equal(metricValue(m.body, 'alerts_raised_total{category="counted"}'), 2);
  a.close();
});

t.test('repeats of (agent, category, source) within suppress_secs of flow time are merged and counted', async (t) => {
  const metrics = new Registry();
  const { log } = captureLogger();
  let at = 1000;
  const scanner: Detector = {
    name: 'scanner',
    onFlows(_flows, emit) {
      for (const src of ['10.0.0.1', '10.0.0.1', '10.0.0.2']) {
        emit({
          category: 'port_scan', severity: 'medium', attack_id: 'T1046', agent_id: 'gw1', src_ip: src, dst_ip: null, dst_port: null,
          first_ts: at, last_ts: at + 1, score: 5, threshold: 5, evidence: {},
        });
      }
    },
  };
  const runner = new DetectRunner([scanner], metrics, log, 600);
  t.same(runner.run([]).map((a) => a.src_ip), ['10.0.0.1', '10.0.0.2'], 'the repeat from 10.0.0.1 is merged');
  at += 300;
  t.same(runner.run([]), [], 'still inside the window (it slides with each repeat)');
  at += 1000;
  t.same(runner.run([]).map((a) => a.src_ip), ['10.0.0.1', '10.0.0.2'], 'after the window: raised again');
  t.match(metrics.render(), /alerts_merged_total\{category="port_scan"\} 5/);
});

t.test('per-key state a detector drops to stay within its caps is counted in detector_state_evictions_total', async (t) => {
  const { PortScanDetector } = await import('../../../collector/detect/port-scan');
  const { detectConfig, flow: probe } = await import('./flows');
  const cfg = detectConfig({ port_scan: { max_tracked_pairs: 10 } }).port_scan;
  const scans = new PortScanDetector(cfg);
  const metrics = new Registry();
  const runner = new DetectRunner([scans, counting], metrics, captureLogger().log);
  // 100 (source, destination) pairs of one agent, one probe each: at most 10 are held
  runner.run(Array.from({ length: 100 }, (_, i) => probe({ srcIp: `10.1.0.${i}`, dstIp: '10.0.0.2', dstPort: 22 })));
  runner.countEvictions();
  const evicted = scans.evictions();
  t.ok(evicted >= 90, `${evicted} pairs evicted`);
  t.equal(metricValue(metrics.render(), 'detector_state_evictions_total{detector="port_scan"}'), evicted);
  t.notOk(metrics.render().includes('detector_state_evictions_total{detector="counting"}'), 'a detector without caps has no series');
  runner.countEvictions();
  t.equal(metricValue(metrics.render(), 'detector_state_evictions_total{detector="port_scan"}'), evicted, 'counted once');
});
