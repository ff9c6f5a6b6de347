// What the benchmark prints: one `key=value …` line per figure (stable, for scripts and for
// docs/benchmarks.md), then `#` lines for people (legend, goals, a table per section).
import type { AllocsResult } from './allocs';
import type { Capture } from './capture';
import type { LiveResult } from './live';
import type { MemoryResult } from './memory';
import type { OfflineResult } from './offline';
import type { ProfileEntry } from './profile';

export const GOAL_BYTES_PER_FLOW = 200;

const int = (x: number): string => (Number.isFinite(x) ? String(Math.round(x)) : 'NA');
const fix = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'NA');
const mib = (b: number): string => (Number.isFinite(b) ? `${(b / 1048576).toFixed(1)} MiB` : '–');
const kpps = (x: number): string => (Number.isFinite(x) && x > 0 ? `${(x / 1000).toFixed(0)}k` : '–');

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => `#   ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ')}`;
  return [line(head), ...rows.map(line)];
}

export function captureLines(c: Capture): string[] {
  return [`capture packets=${c.packets} bytes=${c.bytes} truth_flows=${c.truthFlows} file=${c.file}`];
}

export function offlineLines(r: OfflineResult, c: Capture): string[] {
  const ratios = r.peers.map((p) => `${p.name}_ratio=${fix(p.ratio)}`).join(' ');
  const lines = [
    `offline_pps=${int(r.pps)} ${ratios}`.trim(),
    `offline_flows=${r.flowsExported} truth_flows=${c.truthFlows} packets=${c.packets}`,
    `# ratio = peer wall time / our wall time, paired back-to-back runs on the same ${c.packets}-packet file, median of ${r.rounds}` +
      ' (one warm-up not counted): > 1 means Goalkeeper is faster.',
  ];
  const behind = r.peers.filter((p) => !(p.ratio > 1));
  if (r.peers.length) {
    lines.push(behind.length === 0 ? '# goal (faster than every peer): met'
      : `# goal (faster than every peer): MISSED against ${behind.map((p) => `${p.name} (${fix(p.ratio)})`).join(', ')}`);
  }
  lines.push(`# flows: ours ${r.flowsExported} (idle/active timeouts, TCP teardown and port reuse split some), generator ground truth ${c.truthFlows}`);
  const rows = [['goalkeeper (agent CLI)', 'repo', fix(r.ourMedianWallS, 3), int(r.pps), fix(r.ourMedianCpuS), mib(r.ourMaxRssBytes), '1.00']];
  for (const p of r.peers) {
    rows.push([p.name, p.version, fix(p.medianWallS, 3), int(r.packets / p.medianWallS), fix(p.medianCpuS), mib(p.maxRssBytes), fix(p.ratio)]);
  }
  lines.push(...table(['tool', 'version', 'median wall s', 'pkt/s', 'CPU s', 'peak RSS', 'ratio'], rows));
  return lines;
}

export function liveLines(r: LiveResult): string[] {
  const lines = [`live_zero_drop_pps=${int(r.zeroDropPps)} live_first_drop_pps=${r.firstDropPps > 0 ? int(r.firstDropPps) : 'none'}` +
    ` tcpreplay_ceiling_pps=${r.senderCeilingPps > 0 ? int(r.senderCeilingPps) : 'NA'}`];
  if (r.firstDropPps === 0) {
    lines.push(`# no drops up to the sender's ceiling: tcpreplay --topspeed pushed ${int(r.senderCeilingPps)} pkt/s, so the agent's own limit is higher and unmeasured here`);
  }
  const rows = r.steps.map((s) => [s.requestedPps > 0 ? kpps(s.requestedPps) : 'topspeed', int(s.achievedPps), String(s.sent),
    String(s.frames), String(s.kernelDropped), String(s.interfaceDropped), s.zeroDrop ? 'yes' : 'NO']);
  lines.push(...table(['asked pps', 'sent pps', 'sent', 'agent frames', 'pcap drops', 'if drops', 'zero drop'], rows));
  return lines;
}

/** bytes_per_flow= is the compact feature set's figure (the one meant for millions of flows); bytes_per_flow_full= the full set's. */
export function memoryLines(r: MemoryResult): string[] {
  const key = r.features === 'compact' ? 'bytes_per_flow' : 'bytes_per_flow_full';
  return [
    `${key}=${int(r.rssBytesPerFlow)} flows=${r.flows} features=${r.features} goal_bytes_per_flow=${GOAL_BYTES_PER_FLOW}`,
    `# flow.features=${r.features}: RSS per active flow with ${r.flows} flows open: ${int(r.rssBytesPerFlow)} B (${int(r.rssBytesPerFlowMarginal)} B without the` +
      ` ${mib(r.tableReserveBytes)} the empty table reserves); V8 heap ${int(r.heapBytesPerFlow)} B/flow, ArrayBuffers` +
      ` ${int(r.arrayBufferBytesPerFlow)} B/flow; filling took ${fix(r.secondsToFill)} s (${int(r.flows / r.secondsToFill)} new flows/s).`,
    `# goal (≤ ${GOAL_BYTES_PER_FLOW} B/flow): ${r.rssBytesPerFlow <= GOAL_BYTES_PER_FLOW ? 'met' : `MISSED by ${fix(r.rssBytesPerFlow / GOAL_BYTES_PER_FLOW, 1)}×`}` +
      (r.active === r.flows ? '' : `; only ${r.active} of ${r.flows} flows were in the table`),
  ];
}

export function allocsLines(r: AllocsResult): string[] {
  const exact = (r.steadyGcs === 0 ? '' : ' (a GC ran inside the window: lower bound)') +
    (r.steadyFlowsCreated === 0 ? '' : ` (the passes still created ${r.steadyFlowsCreated} flows)`);
  const flowNote = r.coldGcs + r.exportGcs === 0 ? '' : ' (a GC ran while flows were created or exported: those two are lower bounds)';
  const lines = [
    `allocs_per_packet=${fix(r.bytesPerPacket, 1)} bytes_per_new_flow=${int(r.bytesPerNewFlow)} bytes_per_export=${int(r.bytesPerExport)}`,
    `# allocs_per_packet = V8 heap bytes allocated per packet of an existing flow by decodeFrame + FlowTable.add${exact}` +
      ` (${r.steadyPackets} packets from the first ${r.packets} of the capture, ${r.flowsCreated} flows); decodeFrame alone:` +
      ` ${fix(r.decodeBytesPerPacket, 1)} B/packet. Time: ${fix(r.nsPerPacket, 0)} ns/packet (decode ${fix(r.decodeNsPerPacket, 0)} ns).`,
    `# bytes_per_new_flow: allocated when a flow is created (the FlowEntry and the table's share); bytes_per_export: per flow record built at export${flowNote}.`,
    `# goal (no allocation per packet): ${r.bytesPerPacket < 0.5 ? 'met' : 'MISSED'}`,
  ];
  if (r.sites.length) {
    lines.push('# where (sampling heap profiler, bytes per packet):');
    for (const s of r.sites) lines.push(`#   ${fix(s.bytes, 1).padStart(6)}  ${s.site}`);
  }
  return lines;
}

export function profileLines(wallS: number, entries: ProfileEntry[]): string[] {
  return [
    `# CPU profile of one agent run (${fix(wallS)} s wall, self time by function):`,
    ...table(['function', 'self ms', '%'], entries.map((e) => [e.fn, fix(e.selfMs, 0), fix(e.percent, 1)])),
  ];
}
