// Composition root and command line of the collector. The only place where modules are built and
// wired; each gets its slice of the config. Ordered shutdown: stop accepting, close agent and
// subscriber sockets (in-flight batches finish and are acked), stop timers, close the store.
//
//   npx tsx collector/main.ts serve --config FILE [--listen HOST:PORT] [--db PATH] [--log-level LEVEL]
//   npx tsx collector/main.ts alerts --url ws://HOST:PORT --token TOKEN [--since ID]
//   npx tsx collector/main.ts hash-token TOKEN
import type { AddressInfo } from 'node:net';
import { AlertHub, followAlerts, SubscriberEndpoint, type SubscriberPrincipal } from './alerts';
import { loadConfigFile, parseHostPort, type CollectorConfig, type ConfigOverrides } from './config';
import { DetectRunner, PortScanDetector, type Detector } from './detect';
import { CollectorError, CollectorErrorCode, errorMessage } from './errors';
import { AgentEndpoint, AgentHealth, bearerToken, createHttpServer, sha256Hex, startKeepalive, TokenTable } from './ingest';
import { alertToJson, type AgentIdentity, type Alert } from './model';
import { createLogger, healthzHandler, metricsHandler, Registry, type Logger, type LogLevel } from './obs';
import { Pipeline } from './pipeline';
import { SqliteStore, type Store } from './store';

export interface StartOptions {
  log: Logger;
  /** every raised alert, after it is stored (main prints them on stdout) */
  onAlert?: (alert: Alert) => void;
  /** replaces the configured detectors (tests) */
  detectors?: Detector[];
  /** wraps the store (tests inject failures) */
  wrapStore?: (store: Store) => Store;
}

export interface RunningCollector {
  readonly host: string;
  readonly port: number;
  readonly metrics: Registry;
  readonly hub: AlertHub;
  close(): Promise<void>;
}

function buildDetectors(cfg: CollectorConfig): Detector[] {
  const out: Detector[] = [];
  if (cfg.detect.port_scan.enabled) out.push(new PortScanDetector(cfg.detect.port_scan));
  return out;
}

export async function startCollector(cfg: CollectorConfig, opts: StartOptions): Promise<RunningCollector> {
  const { log } = opts;
  const startedAt = Date.now();
  const metrics = new Registry();
  const baseStore = new SqliteStore({ path: cfg.store.sqlite_path, synchronous: cfg.store.synchronous });
  const store = opts.wrapStore ? opts.wrapStore(baseStore) : baseStore;

  const hub = new AlertHub(store, metrics, log.child({ module: 'alerts' }));
  if (opts.onAlert) hub.subscribe(opts.onAlert);
  const detect = new DetectRunner(opts.detectors ?? buildDetectors(cfg), metrics, log.child({ module: 'detect' }));
  const pipeline = new Pipeline({ store, detect, hub, metrics, log: log.child({ module: 'pipeline' }) });
  const health = new AgentHealth(pipeline, {
    store, metrics, log: log.child({ module: 'health' }), missedHeartbeats: cfg.health.silent_after_missed_heartbeats,
  });
  health.start();

  const agentTokens = new TokenTable<AgentIdentity>(
    cfg.auth.agents.map((a) => ({ tokenSha256: a.token_sha256, value: { agentId: a.agent_id } })),
  );
  const subscriberTokens = new TokenTable<SubscriberPrincipal>(
    cfg.auth.subscribers.map((s) => ({ tokenSha256: s.token_sha256, value: { name: s.name } })),
  );
  const agents = new AgentEndpoint({
    tokens: agentTokens,
    handlers: health,
    collectorId: cfg.collector_id,
    maxFrameBytes: cfg.limits.max_frame_bytes,
    limits: { maxFlowsPerBatch: cfg.limits.max_flows_per_batch, maxClockSkewUs: cfg.limits.max_clock_skew_secs * 1e6 },
    metrics,
    log: log.child({ module: 'ingest' }),
  });
  const subscribers = new SubscriberEndpoint({
    hub,
    store,
    maxBufferedBytes: cfg.alerts.max_buffered_bytes_per_subscriber,
    maxReplayAlerts: cfg.alerts.max_replay_alerts,
    authenticate: (req, url) => subscriberTokens.lookup(bearerToken(req, url, true)),
    metrics,
    log: log.child({ module: 'subscribers' }),
  });
  const pingMs = cfg.limits.ping_interval_secs * 1000;
  const stopKeepalives = [startKeepalive(agents.wss, pingMs), startKeepalive(subscribers.wss, pingMs)];

  const http = createHttpServer({
    requests: {
      '/healthz': healthzHandler(() => ({
        collector_id: cfg.collector_id,
        uptime_secs: Math.round((Date.now() - startedAt) / 1000),
        agents_connected: agents.connected,
        subscribers_connected: subscribers.connected,
      })),
      '/metrics': metricsHandler(metrics),
    },
    upgrades: { '/v1/agent': agents, '/v1/alerts': subscribers },
    maxConnectionsPerIp: cfg.limits.max_connections_per_ip,
    metrics,
    log: log.child({ module: 'http' }),
  });

  const closeAll = async (): Promise<void> => {
    http.server.close();
    await Promise.allSettled([agents.close(), subscribers.close()]);
    for (const stop of stopKeepalives) stop();
    health.stop();
    http.server.closeAllConnections();
    await store.close();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      http.server.once('error', reject);
      http.server.listen(cfg.listen.port, cfg.listen.host, () => {
        http.server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw new CollectorError(CollectorErrorCode.LISTEN, `cannot listen on ${cfg.listen.host}:${cfg.listen.port}: ${errorMessage(err)}`, { cause: err });
  }
  http.server.on('error', (err) => log.error('http server error', { err: errorMessage(err) }));
  const addr = http.server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    host: addr.address,
    port: addr.port,
    metrics,
    hub,
    close: () => (closing ??= closeAll()),
  };
}

// ---- command line -------------------------------------------------------------------------------

export const USAGE = `usage: collector/main.ts <command> [options]

commands:
  serve --config FILE [--listen HOST:PORT] [--db PATH] [--log-level debug|info|warn|error]
      Run the collector. Prints {"event":"listening",...} once listening, then one
      {"event":"alert","alert":{...}} line per alert on stdout; logs are JSON lines on stderr.
      --listen and --db override the config file (port 0 = any free port).
  alerts --url ws://HOST:PORT --token TOKEN [--since ID]
      Follow the alert stream as a subscriber, one alert JSON per line on stdout.
      The token may also come from the environment variable GOALKEEPER_TOKEN.
  hash-token TOKEN
      Print the sha256 hex of TOKEN, as config auth.*.token_sha256 wants it.

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.`;

type Flags = Record<string, string>;

function usageError(message: string): CollectorError {
  return new CollectorError(CollectorErrorCode.USAGE, message);
}

/** `--name value` / `--name=value` flags from the allowed set; positional args returned apart. */
export function parseFlags(args: string[], allowed: readonly string[]): { flags: Flags; positional: string[] } {
  const flags: Flags = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!allowed.includes(name)) throw usageError(`unknown option --${name}`);
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = args[++i];
    if (value === undefined) throw usageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return { flags, positional };
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

function writeLine(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function serve(args: string[], log: Logger): Promise<number> {
  const { flags, positional } = parseFlags(args, ['config', 'listen', 'db', 'log-level']);
  if (positional.length > 0) throw usageError(`unexpected argument ${positional[0]}`);
  if (!flags.config) throw usageError('serve needs --config FILE');
  if (flags['log-level'] !== undefined && !LOG_LEVELS.includes(flags['log-level'] as LogLevel)) {
    throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  }
  if (flags['log-level']) log = createLogger({ level: flags['log-level'] as LogLevel });
  const overrides: ConfigOverrides = {};
  if (flags.listen !== undefined) {
    const hp = parseHostPort(flags.listen);
    if (!hp) throw usageError(`--listen must be HOST:PORT (got ${flags.listen})`);
    overrides.listen = hp;
  }
  if (flags.db !== undefined) overrides.sqlitePath = flags.db;
  const cfg = loadConfigFile(flags.config, overrides);

  const collector = await startCollector(cfg, { log, onAlert: (a) => writeLine({ event: 'alert', alert: alertToJson(a) }) });
  log.info('collector started', { host: collector.host, port: collector.port, sqlite_path: cfg.store.sqlite_path });
  writeLine({ event: 'listening', host: collector.host, port: collector.port });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      collector.close().then(
        () => resolve(0),
        (err) => {
          log.error('shutdown failed', { err: errorMessage(err) });
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function alerts(args: string[], log: Logger): Promise<number> {
  const { flags, positional } = parseFlags(args, ['url', 'token', 'since']);
  if (positional.length > 0) throw usageError(`unexpected argument ${positional[0]}`);
  const token = flags.token ?? process.env.GOALKEEPER_TOKEN;
  if (!flags.url) throw usageError('alerts needs --url ws://HOST:PORT');
  if (!token) throw usageError('alerts needs --token TOKEN (or GOALKEEPER_TOKEN)');
  let since: number | undefined;
  if (flags.since !== undefined) {
    since = Number(flags.since);
    if (!/^\d+$/.test(flags.since) || !Number.isSafeInteger(since)) throw usageError('--since must be a non-negative integer alert id');
  }
  try {
    new URL(flags.url);
  } catch {
    throw usageError(`--url is not a URL: ${flags.url}`);
  }
  const follower = followAlerts({ url: flags.url, token, since, out: (line) => process.stdout.write(`${line}\n`), log });
  process.once('SIGTERM', () => follower.stop());
  process.once('SIGINT', () => follower.stop());
  await follower.done;
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, log);
      case 'alerts':
        return await alerts(rest, log);
      case 'hash-token':
        if (rest.length !== 1) throw usageError('hash-token needs exactly one TOKEN');
        process.stdout.write(`${sha256Hex(rest[0])}\n`);
        return 0;
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      case undefined:
        throw usageError('no command given');
      default:
        throw usageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof CollectorError) {
      log.error(err.message, { code: err.code });
      if (err.code === CollectorErrorCode.USAGE) process.stderr.write(`${USAGE}\n`);
      const usageOrConfig: string[] = [CollectorErrorCode.USAGE, CollectorErrorCode.CONFIG_INVALID, CollectorErrorCode.CONFIG_UNREADABLE];
      return usageOrConfig.includes(err.code) ? 2 : 1;
    }
    log.error('collector failed', { err: errorMessage(err), stack: (err as Error)?.stack });
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Anything left (a stray timer) must not keep a stopped collector alive.
    setTimeout(() => process.exit(code), 500).unref();
  });
}
