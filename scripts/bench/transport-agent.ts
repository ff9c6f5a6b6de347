// The agent side of the transport benchmark (transport.ts starts it): the agent's own batcher → disk
// spool → sender, from the selected build (dist/ unless --source), fed with flow records as fast as the
// spool lets it (full policy `block`, as a capture-file replay runs). Flow records are realistic in
// size and shape (TCP with both directions, Welford stats, early packets, TLS names): about what
// features/flow-record.ts builds for a web flow. Prints one JSON line of counters every 250 ms.
//
//   transport-agent.ts --child URL TOKEN SPOOL_DIR BATCH_FLOWS
import { randomUUID } from 'node:crypto';
import { loadAgentModule } from './agent-build';
import type { Batcher as BatcherT } from '../../agent/export/batcher';
import type { Sender as SenderT } from '../../agent/transport/sender';
import type { Spool as SpoolT } from '../../agent/transport/spool';
import type { IDirectionStats, IFlowRecord } from '../../proto';

const [url, token, spoolDir, batchArg] = process.argv.slice(process.argv.indexOf('--child') + 1);
const batchFlows = Number(batchArg);

const { Batcher } = loadAgentModule<{ Batcher: typeof BatcherT }>('export/batcher');
const { Sender } = loadAgentModule<{ Sender: typeof SenderT }>('transport/sender');
const { Spool } = loadAgentModule<{ Spool: typeof SpoolT }>('transport/spool');

function direction(packets: number, bytes: number, t0: number): IDirectionStats {
  return {
    packets, ipBytes: bytes, payloadBytes: bytes - packets * 52, headerBytes: packets * 52, tcpFlags: 0x1b,
    synCount: 1, finCount: 1, pshCount: 3, ackCount: packets - 1, initWindow: 64240, lenMin: 52, lenMax: 1500,
    lenMean: bytes / packets, lenM2: 812345.5, iatCount: packets - 1, iatMinUs: 12, iatMaxUs: 48211, iatMeanUs: 5210.4,
    iatM2Us: 9.1e9, payloadLen: { n: packets, min: 0, max: 1448, mean: 402.2, m2: 1.2e6 }, nonemptyPackets: 4,
    l4HeaderBytes: packets * 32, l4HeaderLenMin: 32, firstUs: t0, lastUs: t0 + 350_000, firstTcpFlags: 0x02,
    tcpMss: 1460, tcpWscale: 7, tcpSackOk: true, tcpTimestamps: true, synTtl: 64,
  };
}

/** batchFlows records, reused: the batcher encodes a batch as soon as it is full, so a record is free again by then. */
function records(n: number): IFlowRecord[] {
  const t0 = Date.now() * 1000 - 60e6;
  return Array.from({ length: n }, (_, i) => ({
    srcAddr: Uint8Array.of(10, 1, (i >> 8) & 255, i & 255), dstAddr: Uint8Array.of(93, 184, 216, 34),
    srcPort: 40000 + (i % 20000), dstPort: 443, protocol: 6, firstUs: t0, lastUs: t0 + 350_000, endReason: 3,
    fwd: direction(12, 1840, t0), bwd: direction(10, 9120, t0 + 800), flowId: 0,
    iatUs: { n: 21, min: 12, max: 48211, mean: 16666, m2: 3.3e9 }, payloadLen: { n: 22, min: 0, max: 1448, mean: 402, m2: 2e6 },
    activeUs: { n: 1, min: 350000, max: 350000, mean: 350000, m2: 0 }, idleUs: {}, subflowCount: 1,
    communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', recordSeq: 0, recordType: 1, ipVersion: 4,
    earlySizes: [60, -60, 52, 569, -52, -1500, -1500, 52, -1200, 52], earlyGapsUs: [0, 812, 40, 310, 22, 5000, 12, 40, 800, 31],
    app: { tlsSni: 'www.example.org', tlsAlpn: ['h2', 'http/1.1'], tlsVersion: 0x0304, ja4: 't13d1516h2_8daaf6152771_02713d6af862' },
    connState: 'SF',
  }));
}

const bootId = randomUUID();
const spool = Spool.open({ dir: spoolDir, maxBytes: 512 * 1024 * 1024, segmentBytes: 8 * 1024 * 1024, fullPolicy: 'block' });
const sender = new Sender({
  url, token,
  hello: { protocolVersion: 1, agentId: 'bench', bootId, hostname: 'bench', softwareVersion: 'bench', source: 'bench' },
  windowBatches: 16, connectTimeoutMs: 2000, backoffInitialMs: 100, backoffMaxMs: 500, pingIntervalMs: 5000,
}, spool, { onTrouble: () => {}, onConnected: () => {}, onDisconnected: () => {} });
let exported = 0;
const batcher = new Batcher({ bootId, maxFlowsPerBatch: batchFlows, flushIntervalMs: 1000 }, (b) => sender.enqueue(b));
const pool = records(batchFlows);
let peakRss = 0;

setInterval(() => {
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  process.stdout.write(`${JSON.stringify({
    t_ms: Date.now(), exported, acked: sender.counters.flowsAcked, spool_bytes: spool.bytes, rss, peak_rss: peakRss,
    connects: sender.counters.connects,
  })}\n`);
}, 250);

// Until "flat-out" arrives on stdin, the producer keeps at most BACKLOG batches unacknowledged, so that
// it does not take CPU from the collector to fill the disk: the sustained figure is then what the
// transport and the collector deliver. After it (the outage), it produces as fast as the spool allows.
const BACKLOG = 64;
let flatOut = false;
// exits cleanly, so that a CPU profile (transport.ts --cpu-prof) is written
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('data', (d) => { if (d.toString().includes('flat-out')) flatOut = true; });

/** Produces one batch per turn of the event loop, waiting whenever the spool says it is full. */
async function produce(): Promise<void> {
  sender.start();
  for (;;) {
    const gate = spool.gate();
    if (gate) await gate;
    while (!flatOut && spool.pendingBatches > BACKLOG) await new Promise((r) => setTimeout(r, 1));
    for (const r of pool) {
      r.flowId = ++exported;
      batcher.add(r);
    }
    await new Promise((r) => setImmediate(r));
  }
}
void produce();
