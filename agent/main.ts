// Composition root of the agent: builds every module from the one config object and wires
// capture → decode → flow table → (record) → batcher → sender and/or JSON lines, then runs until the
// capture file ends or a signal arrives, and shuts down in order so no exported flow is lost.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { hostname, tmpdir } from 'node:os';
import { buildConfig, loadConfigFile, parseListen, type AgentConfig } from './config';
import { parseCli, USAGE } from './cli';
import { AgentError, AgentErrorCode } from './errors';
import { Logger } from './obs/log';
import { agentSamples } from './obs/agent-metrics';
import type { ObsServer } from './obs/http';
import { ProgressBar, type ProgressTarget } from './obs/progress';
import { readCaptureFile, type FileReadStats } from './capture/file-source';
import { DECODE_EVENT_NAMES, DecodeEvent } from './decode/packet-meta';
import { createMeter, flowTableOptions } from './meter';
import { FlowTable } from './flow/flow-table';
import { toFlowRecord } from './features/flow-record';
import { RecordWriter } from './export/record-writer';
import { OutputOffload, type OutputTarget } from './export/output-offload';
import { writeFlowJson } from './export/flow-json';
import { CIC_HEADER, writeCicRow } from './export/cic-csv';
import type { AgentCredential } from './transport/enrol';
import { buildTlsOptions, type ClientTlsOptions } from './transport/tls-options';
import { PROTOCOL_VERSION } from '../proto';

// Loaded when first used: an offline run (--read FILE --jsonl OUT) needs none of these, and with
// them (ws, http/https, the libpcap addon, the protobuf encoder) the CLI took ~50 ms longer to start.
const lazy = {
  live: (): typeof import('./capture/live-source') => require('./capture/live-source'),
  batcher: (): typeof import('./export/batcher') => require('./export/batcher'),
  sender: (): typeof import('./transport/sender') => require('./transport/sender'),
  enrol: (): typeof import('./transport/enrol') => require('./transport/enrol'),
  spool: (): typeof import('./transport/spool') => require('./transport/spool'),
  obs: (): typeof import('./obs/http') => require('./obs/http'),
};

/** Set by the single-executable build (scripts/package/build.ts), which has no package.json beside it. */
declare const GOALKEEPER_BUILD_VERSION: string | undefined;
const VERSION = typeof GOALKEEPER_BUILD_VERSION === 'string' ? GOALKEEPER_BUILD_VERSION : packageVersion();
/** Thrown through the file reader's gate to end a replay early (signal); never escapes runAgent. */
const STOP_REPLAY = Symbol('stop replay');

/** The version in the nearest package.json above this file (sources and the dist/ build alike). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')).version;
  }
  return 'unknown';
}

export interface AgentRun {
  /** Resolves with the exit status once the agent has stopped. */
  done: Promise<number>;
  /** Ask a live capture to stop (what SIGTERM does). */
  stop(): void;
}

/** Pacing for file replays: a gate that waits whenever we are ahead of `pps`. */
function pacer(pps: number, frames: () => number): () => Promise<void> | null {
  const started = Date.now();
  return () => {
    const dueMs = (frames() / pps) * 1000 - (Date.now() - started);
    return dueMs > 1 ? new Promise((r) => setTimeout(r, dueMs)) : null;
  };
}

/** Who the agent is to the collector and how it reaches it (resolved before the run: see connectSettings). */
export interface CollectorIdentity extends AgentCredential {
  tls: ClientTlsOptions;
}

/** TLS options and credential for the collector, enrolling first when collector.enrol_token says so. */
async function connectSettings(cfg: AgentConfig, log: Logger): Promise<CollectorIdentity> {
  const c = cfg.collector;
  const tls = buildTlsOptions(c.tls);
  const credential = await lazy.enrol().resolveCredential({
    agentId: cfg.agent_id, url: c.url, token: c.token, enrolToken: c.enrol_token, credentialFile: c.credential_file,
    connectTimeoutMs: c.connect_timeout_ms, backoffInitialMs: c.backoff_initial_ms, backoffMaxMs: c.backoff_max_ms,
  }, tls, (err, retryInMs) => log.limited('error', 'enrol_trouble', { code: err.code, message: err.message, retry_in_ms: retryInMs }));
  return { ...credential, tls };
}

export interface RunOptions {
  /** Where to draw a progress bar while reading a capture file (stderr); none when absent. */
  progress?: ProgressTarget;
}

/** A bar over the capture file's bytes, or null when not asked for or the size is unknown. */
function fileProgress(file: string, out: ProgressTarget | undefined): { bar: ProgressBar; total: number } | null {
  if (!out) return null;
  let total: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return null; // a pipe has no size to show progress against
    total = st.size;
  } catch {
    return null; // the reader reports why the file cannot be read ('-' is stdin)
  }
  return { bar: new ProgressBar({ label: basename(file), out }), total };
}

function temporarySpoolDir(): string {
  try {
    return mkdtempSync(join(tmpdir(), 'goalkeeper-spool-'));
  } catch (err) {
    throw new AgentError(AgentErrorCode.SPOOL,
      `cannot make a temporary spool directory in ${tmpdir()} (${(err as Error).message}); set spool.dir (--spool DIR)`, { cause: err });
  }
}

export function runAgent(cfg: AgentConfig, log: Logger, opts: RunOptions = {}, identity?: CollectorIdentity): AgentRun {
  const who: CollectorIdentity = identity ?? { agentId: cfg.agent_id, token: cfg.collector.token, tls: buildTlsOptions(cfg.collector.tls) };
  const bootId = randomUUID();
  // A capture file has an end: if the collector refuses our credentials, waiting is pointless.
  let refuse: (err: AgentError) => void = () => {};
  const refused = new Promise<never>((_, reject) => { refuse = reject; });
  refused.catch(() => {});

  // Files are written by a worker thread from copies of the flows' rows; stdout stays here.
  let collectorConnected = false;
  const writers: RecordWriter[] = [];
  const fileTargets: OutputTarget[] = [];
  for (const [path, format] of [[cfg.output.jsonl, 'jsonl'], [cfg.output.csv, 'csv']] as const) {
    if (!path) continue;
    if (path !== '-' && OutputOffload.supported()) fileTargets.push({ path, format });
    else writers.push(format === 'csv' ? new RecordWriter(path, writeCicRow, CIC_HEADER) : new RecordWriter(path, writeFlowJson));
  }
  const offload = fileTargets.length > 0 ? new OutputOffload(fileTargets, cfg.flow.features === 'full', cfg.flow.early_packets) : null;
  // Without a configured directory the spool lives in a private temporary one, removed at exit.
  const spoolDir = cfg.collector.url ? cfg.spool.dir || temporarySpoolDir() : '';
  const spool = spoolDir
    ? lazy.spool().Spool.open({ dir: spoolDir, maxBytes: cfg.spool.max_bytes, segmentBytes: cfg.spool.segment_bytes, fullPolicy: cfg.spool.full_policy })
    : null;
  const closeSpool = (): void => {
    spool?.close();
    if (spoolDir && !cfg.spool.dir) rmSync(spoolDir, { recursive: true, force: true });
  };
  if (spool && spool.pendingBatches > 0) {
    log.log('info', 'spool_recovered', { dir: spoolDir, batches: spool.pendingBatches, bytes: spool.bytes, torn_tails: spool.counters.tornTails });
  }
  const sender = spool
    ? new (lazy.sender().Sender)({
      url: cfg.collector.url,
      token: who.token,
      tls: who.tls,
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        agentId: who.agentId,
        bootId,
        hostname: hostname(),
        softwareVersion: VERSION,
        source: cfg.source.interface || cfg.source.file,
      },
      windowBatches: cfg.collector.window_batches,
      connectTimeoutMs: cfg.collector.connect_timeout_ms,
      backoffInitialMs: cfg.collector.backoff_initial_ms,
      backoffMaxMs: cfg.collector.backoff_max_ms,
      pingIntervalMs: cfg.collector.ping_interval_ms,
    }, spool, {
      onTrouble: (err, retryInMs) => {
        collectorConnected = false;
        log.limited('error', 'collector_trouble', { code: err.code, message: err.message, retry_in_ms: retryInMs });
        if (err.code === AgentErrorCode.COLLECTOR_REJECTED && !cfg.source.interface) refuse(err);
      },
      onConnected: () => {
        collectorConnected = true;
        log.log('info', 'collector_connected', { url: cfg.collector.url, boot_id: bootId });
      },
      onDisconnected: (err) => log.log('warn', 'collector_disconnected', { code: err.code, message: err.message }),
    })
    : null;
  const batcher = sender
    ? new (lazy.batcher().Batcher)({ bootId, maxFlowsPerBatch: cfg.export.max_flows_per_batch, flushIntervalMs: cfg.export.flush_interval_ms },
      (batch) => sender.enqueue(batch))
    : null;

  const table = new FlowTable(flowTableOptions(cfg.flow), (slots, slot, reason) => {
    offload?.add(slots, slot, reason);
    for (const w of writers) w.write(slots, slot, reason);
    if (batcher) batcher.add(toFlowRecord(slots, slot, reason));
  });
  const meter = createMeter(table);
  const { onFrame, decodeEvents } = meter;

  const live = cfg.source.interface
    ? new (lazy.live().LiveSource)({
      interface: cfg.source.interface,
      bpfFilter: cfg.source.bpf_filter,
      snaplenBytes: cfg.source.snaplen_bytes,
      promiscuous: cfg.source.promiscuous,
      bufferBytes: cfg.source.buffer_bytes,
      bufferTimeoutMs: cfg.source.buffer_timeout_ms,
    }, onFrame)
    : null;

  function summary(): Record<string, unknown> {
    const events: Record<string, number> = {};
    decodeEvents.forEach((n, i) => { if (n > 0 && i !== 0) events[DECODE_EVENT_NAMES[i]] = n; });
    return {
      boot_id: bootId,
      frames: meter.frames(),
      flows_active: table.size,
      flow_table: table.counters,
      decode_events: events,
      capture: live?.stats(),
      transport: sender ? { ...sender.counters, queued_batches: sender.queuedBatches, queued_bytes: sender.queuedBytes } : undefined,
      spool: spool ? { ...spool.counters, dir: spoolDir } : undefined,
    };
  }

  const startedAt = Date.now();
  let obs: ObsServer | null = null;
  async function startObs(): Promise<void> {
    const at = parseListen(cfg.metrics.listen);
    if (!at) return;
    try {
      obs = await lazy.obs().startObsServer(at.host, at.port, () => agentSamples({
        frames: meter.frames,
        bytes: meter.bytes,
        decodeEvents: () => DECODE_EVENT_NAMES.map((name, i) => [name, decodeEvents[i]] as const),
        capture: live ? () => live.stats() : undefined,
        flowsActive: () => table.size,
        flowTable: table.counters,
        transport: sender && spool
          ? { counters: sender.counters, spool: spool.counters, queuedBatches: () => sender.queuedBatches, queuedBytes: () => sender.queuedBytes, connected: () => collectorConnected }
          : undefined,
      }), () => ({
        agent_id: cfg.agent_id,
        boot_id: bootId,
        version: VERSION,
        uptime_secs: Math.round((Date.now() - startedAt) / 1000),
        source: cfg.source.interface || cfg.source.file,
        collector_connected: sender ? collectorConnected : null,
      }));
    } catch (err) {
      throw new AgentError(AgentErrorCode.METRICS_LISTEN, `cannot listen on metrics.listen ${cfg.metrics.listen}: ${(err as Error).message}`, { cause: err });
    }
    log.log('info', 'metrics_listening', { host: at.host, port: obs.port });
  }

  let heartbeat: NodeJS.Timeout | null = null;
  function startHeartbeats(): void {
    if (!sender) return;
    heartbeat = setInterval(() => {
      const cap = live?.stats();
      let decodeErrors = 0;
      for (let i = 1; i < decodeEvents.length; i++) if (i !== DecodeEvent.NOT_IP) decodeErrors += decodeEvents[i];
      sender.sendHeartbeat({
        sentUs: Date.now() * 1000,
        packetsReceived: meter.frames(),
        packetsDropped: cap?.kernelDropped ?? 0,
        packetsIfDropped: cap?.interfaceDropped ?? 0,
        flowsActive: table.size,
        flowsExported: table.counters.recordsExported,
        flowsDropped: spool!.counters.flowsDropped,
        unackedBatches: sender.queuedBatches,
        decodeErrors,
        spoolBytes: spool!.bytes,
        batchesDropped: spool!.counters.batchesDropped,
        softwareVersion: VERSION,
        spoolTornTails: spool!.counters.tornTails,
        intervalMs: cfg.collector.heartbeat_interval_ms,
      });
    }, cfg.collector.heartbeat_interval_ms);
    heartbeat.unref();
  }

  /** Export everything still open, hand it to the sender and wait (bounded) for the collector's acks. */
  async function finish(drainMs: number): Promise<number> {
    table.flushAll();
    batcher?.flush();
    batcher?.stop();
    let status = 0;
    if (sender) {
      const delivered = await sender.drain(drainMs);
      if (!delivered) {
        const why = sender.lastError ? `: ${sender.lastError.message}` : '';
        log.log('error', 'undelivered', {
          code: sender.lastError?.code ?? AgentErrorCode.COLLECTOR_UNREACHABLE,
          message: `${sender.queuedBatches} batches were not acknowledged by the collector within ${drainMs} ms${why}`,
        });
        status = 3;
      }
      sender.stop();
    }
    if (heartbeat) clearInterval(heartbeat);
    for (const w of writers) await w.close();
    await offload?.close();
    await obs?.close();
    if (spool?.lastError) log.log('error', 'spool', { code: spool.lastError.code, message: spool.lastError.message });
    log.log('info', 'stopped', summary());
    closeSpool();
    return status;
  }

  let stopLive: () => void = () => {};
  let stopRequested = false;
  const stopAll = (): void => {
    void offload?.abort();
    sender?.stop();
    batcher?.stop();
    if (heartbeat) clearInterval(heartbeat);
    closeSpool();
  };
  const work = (async (): Promise<number> => {
    await startObs();
    sender?.start();
    batcher?.start();
    startHeartbeats();
    if (!live) {
      const gates: Array<() => Promise<void> | null> = [];
      const progress = fileProgress(cfg.source.file, opts.progress);
      if (sender) gates.push(() => sender.gate());
      for (const w of writers) gates.push(() => w.gate());
      if (offload) gates.push(() => offload.gate());
      if (cfg.source.replay_pps > 0) gates.push(pacer(cfg.source.replay_pps, meter.frames));
      const gate = (offset: number): Promise<void> | null => {
        if (stopRequested) return Promise.reject(STOP_REPLAY);
        progress?.bar.update(offset, progress.total);
        const waits = gates.map((g) => g()).filter((p): p is Promise<void> => p !== null);
        return waits.length ? Promise.all(waits).then(() => undefined) : null;
      };
      try {
        const stats: FileReadStats = await readCaptureFile(cfg.source.file, onFrame, {
          gate,
          // Small reads when pacing, so that the pace is smooth.
          chunkBytes: cfg.source.replay_pps > 0 ? 64 * 1024 : undefined,
        });
        progress?.bar.finish(progress.total, progress.total);
        for (const warning of stats.warnings) log.log('warn', 'capture_file', { file: stats.file, message: warning });
        log.log('info', 'file_done', { file: stats.file, format: stats.format, frames: stats.frames, truncated_records: stats.truncatedRecords });
      } catch (err) {
        if (err !== STOP_REPLAY) throw err;
        log.log('info', 'file_stopped', { file: cfg.source.file, frames: meter.frames() });
      }
      return finish(cfg.collector.drain_timeout_ms);
    }
    live.start();
    log.log('info', 'capturing', { interface: cfg.source.interface, link_type: live.linkType, filter: cfg.source.bpf_filter });
    // Packet time drives the table; a quiet link still needs its idle flows ended.
    const sweeper = setInterval(() => table.sweep(Date.now() * 1000), 1000);
    await new Promise<void>((resolve) => { stopLive = resolve; });
    clearInterval(sweeper);
    await live.stop();
    return finish(Math.min(cfg.collector.drain_timeout_ms, 10000));
  })();
  const done = Promise.race([work, refused]).catch((err) => {
    stopAll();
    void obs?.close();
    void live?.stop();
    throw err;
  });

  return { done, stop: () => { stopRequested = true; stopLive(); } };
}

export async function main(argv: string[], log = new Logger()): Promise<number> {
  let cfg: AgentConfig;
  const runOpts: RunOptions = {};
  try {
    const req = parseCli(argv);
    if (req.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (req.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    const file = req.configPath ? { path: req.configPath, data: loadConfigFile(req.configPath) } : null;
    cfg = buildConfig(file, req.overrides);
    // Always on stderr: by default when that is a terminal (unless flows are being printed on the
    // same terminal), and with --progress into a file or pipe too.
    const flowsOnTerminal = (cfg.output.jsonl === '-' || cfg.output.csv === '-') && process.stdout.isTTY;
    if (req.progress || (process.stderr.isTTY && !flowsOnTerminal)) runOpts.progress = process.stderr;
  } catch (err) {
    if (err instanceof AgentError) {
      log.log('error', 'config', { code: err.code, message: err.message });
      return 2;
    }
    throw err;
  }
  try {
    const identity = cfg.collector.url ? await connectSettings(cfg, log) : undefined;
    const run = runAgent(cfg, log, runOpts, identity);
    // Repeated signals are harmless: the first one starts an orderly stop that must not be cut short.
    const onSignal = (): void => run.stop();
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return await run.done;
  } catch (err) {
    if (err instanceof AgentError) {
      log.log('error', 'fatal', { code: err.code, message: err.message });
      return 3;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    // Explicit exit: by now every flow is written and acknowledged, and libpcap's handle would
    // otherwise hold the event loop open after a quiet capture (see LiveSource.stop).
    (status) => process.exit(status),
    (err) => {
      process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', event: 'crash', message: String(err?.stack ?? err) })}\n`);
      process.exitCode = 70;
    },
  );
}
