// Composition root and command line of the collector. The only place where modules are built and
// wired; each gets its slice of the config. Ordered shutdown: stop accepting, close agent and
// subscriber sockets (in-flight batches finish and are acked), stop timers, close the store.
//
//   npx tsx collector/main.ts serve --config FILE [--listen HOST:PORT] [--db PATH] [--log-level LEVEL]
//   npx tsx collector/main.ts alerts --url ws://HOST:PORT --token TOKEN [--since ID] [filters]
//   npx tsx collector/main.ts stix-export --config FILE [--since TIME] [filters] [--out FILE]
//   npx tsx collector/main.ts audit verify --config FILE
//   npx tsx collector/main.ts hash-token TOKEN
//   npx tsx collector/main.ts enrol create --config FILE [--name AGENT_ID] [--ttl-secs S]
//   npx tsx collector/main.ts agents list|revoke [ID] --config FILE
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { AuditLog, verifyChain } from './audit';
import { startCluster, type RunningCluster } from './cluster';
import { startOutputs, type RunningOutputs } from './alerts/outputs';
import { AlertHub, exportStix, followAlerts, isSeverity, parseSince, toAlertFilter, SubscriberEndpoint, type SubscriberPrincipal } from './alerts';
import { loadConfigFile, parseHostPort, type CollectorConfig, type ConfigOverrides } from './config';
import { buildDetectors, DetectRunner, type Detector } from './detect';
import { CollectorError, CollectorErrorCode, errorMessage } from './errors';
import { agentsList, agentsRevoke, enrolCreate, enrolHandler, Identity, type IdentityEvent } from './identity';
import { AgentEndpoint, AgentHealth, bearerToken, createHttpServer, readServerTls, sha256Hex, startKeepalive, TokenTable } from './ingest';
import { alertToJson, type AgentIdentity, type Alert, type Severity } from './model';
import { createLogger, healthzHandler, metricsHandler, Registry, softwareVersion, type Logger, type LogLevel } from './obs';
import { Pipeline } from './pipeline';
import { Dashboard, detectorState } from './web';
import { openStore, type Store } from './store';

export interface StartOptions {
  log: Logger;
  /** every raised alert, after it is stored (main prints them on stdout) */
  onAlert?: (alert: Alert) => void;
  /** replaces the configured detectors (tests) */
  detectors?: Detector[];
  /** wraps the store (tests inject failures) */
  wrapStore?: (store: Store) => Store;
  /** every enrolment, refusal and revocation (the audit trail hooks in here) */
  onIdentityEvent?: (e: IdentityEvent) => void;
}

export interface RunningCollector {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly metrics: Registry;
  readonly hub: AlertHub;
  /** the audit chain; enrolment and revocation call audit.recordAdminAction(kind, details) */
  readonly audit: AuditLog;
  readonly outputs: RunningOutputs;
  /** Re-reads the threat-intel sources (serve calls it on SIGHUP). */
  reloadIntel(): Promise<void>;
  close(): Promise<void>;
}

function buildIdentity(cfg: CollectorConfig, store: Store, onEvent?: (e: IdentityEvent) => void): Identity {
  return new Identity({
    store,
    staticTokens: new TokenTable<AgentIdentity>(cfg.auth.agents.map((a) => ({ tokenSha256: a.token_sha256, value: { agentId: a.agent_id } }))),
    staticAgentIds: new Set(cfg.auth.agents.map((a) => a.agent_id)),
    onEvent,
  });
}

export async function startCollector(cfg: CollectorConfig, opts: StartOptions): Promise<RunningCollector> {
  const { log } = opts;
  const startedAt = Date.now();
  const tls = readServerTls(cfg.listen.tls);
  const metrics = new Registry();
  const baseStore = await openStore(cfg.store, {
    onBackgroundError: (err) => log.error(err.message, { code: err.code }),
    onPartitionsDropped: (partitions) => log.info('retention: flows partitions dropped', { partitions }),
  });
  const store = opts.wrapStore ? opts.wrapStore(baseStore) : baseStore;

  const audit = new AuditLog(store, metrics, log.child({ module: 'audit' }));
  await audit.recordConfig(cfg);
  // Scale-out (docs/scaling.md): agents' batches go to JetStream, alerts come back from it.
  let cluster: RunningCluster | undefined;
  try {
    cluster = cfg.cluster.enabled ? await startCluster(cfg, { store, metrics, log, audit }) : undefined;
  } catch (err) {
    await store.close();
    throw err;
  }
  const alertStore = cluster?.alertStore ?? store;
  const hub = new AlertHub(alertStore, metrics, log.child({ module: 'alerts' }), cluster?.auditsAlerts ? undefined : audit);
  if (opts.onAlert) hub.subscribe(opts.onAlert);
  let outputs: RunningOutputs;
  try {
    outputs = startOutputs(cfg.alerts.outputs, {
      hub,
      metrics,
      log: log.child({ module: 'outputs' }),
      ecs: { collectorId: cfg.collector_id, version: softwareVersion() },
    });
  } catch (err) {
    await cluster?.close();
    await store.close();
    throw err;
  }
  const detectLog = log.child({ module: 'detect' });
  const detectorSet = await buildDetectors(cfg.detect, { log: detectLog, metrics });
  const detectors = opts.detectors ?? detectorSet.detectors;
  const detect = new DetectRunner(detectors, metrics, detectLog, cfg.detect.suppress_secs);
  const pipeline = new Pipeline({ store, detect, hub, metrics, log: log.child({ module: 'pipeline' }) });
  const health = new AgentHealth(cluster?.ingest ?? pipeline, {
    store, metrics, log: log.child({ module: 'health' }), missedHeartbeats: cfg.health.silent_after_missed_heartbeats,
  });
  health.start();

  const subscriberTokens = new TokenTable<SubscriberPrincipal>(
    cfg.auth.subscribers.map((s) => ({ tokenSha256: s.token_sha256, value: { name: s.name } })),
  );
  // Enrolments, refusals and revocations go into the audit chain too.
  const identity = buildIdentity(cfg, store, (e) => {
    opts.onIdentityEvent?.(e);
    void audit.recordAdminAction(e.kind, e);
  });
  const operatorTokens = new TokenTable<{ name: string }>(
    cfg.auth.operators.map((o) => ({ tokenSha256: o.token_sha256, value: { name: o.name } })),
  );
  const dashboard = cfg.web.enabled
    ? new Dashboard({
      store,
      metrics,
      detectors: detectors.map((d) => ({
        name: d.name,
        config: (cfg.detect as unknown as Record<string, Record<string, unknown> | undefined>)[d.name],
        state: () => detectorState(d),
      })),
      producer: { name: cfg.stix.producer_name, identityClass: cfg.stix.producer_class, collectorId: cfg.collector_id },
      nowSecs: () => Date.now() / 1000,
      authenticateToken: (token) => operatorTokens.lookup(token),
      bearerToken: (req) => bearerToken(req, new URL('http://collector.invalid/'), false),
      sessionTtlSecs: cfg.web.session_ttl_secs,
      maxSessions: cfg.web.max_sessions,
      collectorId: cfg.collector_id,
      version: softwareVersion(),
      log: log.child({ module: 'web' }),
      onLogin: (op, ip) => void audit.recordAdminAction('operator_login', { operator: op.name, ip: ip ?? null }),
    })
    : undefined;
  const agents = new AgentEndpoint({
    authenticate: (bearer) => identity.authenticate(bearer),
    stillValid: (who) => identity.stillValid(who),
    revocationCheckMs: cfg.auth.revocation_check_secs * 1000,
    helloTimeoutMs: cfg.limits.handshake_timeout_secs * 1000,
    handlers: health,
    collectorId: cfg.collector_id,
    maxFrameBytes: cfg.limits.max_frame_bytes,
    limits: { maxFlowsPerBatch: cfg.limits.max_flows_per_batch, maxClockSkewUs: cfg.limits.max_clock_skew_secs * 1e6 },
    metrics,
    log: log.child({ module: 'ingest' }),
  });
  const subscribers = new SubscriberEndpoint({
    hub,
    store: alertStore,
    maxBufferedBytes: cfg.alerts.max_buffered_bytes_per_subscriber,
    maxReplayAlerts: cfg.alerts.max_replay_alerts,
    authenticate: (req, url) => subscriberTokens.lookup(bearerToken(req, url, true)) ?? dashboard?.subscriberFromSession(req),
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
    posts: { '/v1/enrol': enrolHandler(identity, metrics, log.child({ module: 'enrol' })) },
    fallback: dashboard?.handle,
    // A cluster worker is not behind the agents' address and takes none: /v1/agent answers 404 there.
    upgrades: cfg.cluster.enabled && cfg.cluster.role === 'worker' ? { '/v1/alerts': subscribers } : { '/v1/agent': agents, '/v1/alerts': subscribers },
    maxConnectionsPerIp: cfg.limits.max_connections_per_ip,
    maxPendingPerIp: cfg.limits.max_pending_connections_per_ip,
    handshakeTimeoutMs: cfg.limits.handshake_timeout_secs * 1000,
    tls,
    metrics,
    log: log.child({ module: 'http' }),
  });

  const closeAll = async (): Promise<void> => {
    http.server.close();
    await Promise.allSettled([agents.close(), subscribers.close()]);
    for (const stop of stopKeepalives) stop();
    detectorSet.close();
    health.stop();
    http.server.closeAllConnections();
    outputs.close();
    await cluster?.close();
    await audit.flush();
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
  await cluster?.followAlerts(hub);
  const addr = http.server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    host: addr.address,
    port: addr.port,
    tls: tls !== undefined,
    metrics,
    hub,
    audit,
    outputs,
    reloadIntel: () => detectorSet.reloadIntel(),
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
  alerts --url ws://HOST:PORT --token TOKEN [--since ID] [--min-severity S] [--category C,..] [--agent A,..] [--host IP,..]
      Follow the alert stream as a subscriber, one alert JSON per line on stdout; the filters select
      alerts of severity S or above (low|medium|high|critical), of these categories, agents, hosts.
      The token may also come from the environment variable GOALKEEPER_TOKEN.
  hash-token TOKEN
      Print the sha256 hex of TOKEN, as config auth.*.token_sha256 wants it.
  enrol create --config FILE [--name AGENT_ID] [--ttl-secs S]
      Make a one-time enrolment token (printed once on stdout; only its hash is stored).
      --name fixes the agent id it enrols; --ttl-secs defaults to auth.enrol_token_ttl_secs.
  agents list --config FILE
      Every known agent as a JSON line: credential (config|enrolled), state, enrolled_at,
      revoked_at, last_seen.
  agents revoke AGENT_ID --config FILE
      Revoke an enrolled agent's credential; a running collector cuts its connection
      within auth.revocation_check_secs.
  stix-export --config FILE [--db PATH] [--since TIME] [--min-severity S] [--category C,..] [--agent A,..]
              [--host IP,..] [--limit N] [--out FILE]
      Write the stored alerts (raised at or after TIME: RFC 3339, unix seconds, or an age like 24h/7d)
      as a STIX 2.1 bundle (indicators, sightings, observed-data) on stdout or to FILE.
  audit verify --config FILE [--db PATH]
      Check the audit hash chain (alerts, config changes, administrative actions). Prints one JSON
      line {"ok":...,"entries":N,"last_hash":...,"broken":{"seq":N,"reason":...}}; exit 0 when intact,
      3 when a link is broken.

--help shows this text, COMMAND --help the part about COMMAND, --version the version.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 3 audit chain broken.`;

/** The part of USAGE about `command` (its lines and the indented text under them); undefined if none. */
export function commandHelp(command: string): string | undefined {
  const sections: string[] = [];
  let inside = false;
  for (const line of USAGE.split('\n')) {
    const head = /^ {2}(\S+)/.exec(line);
    if (head) inside = head[1] === command;
    else if (!/^ {6}/.test(line)) inside = false;
    if (inside) sections.push(line);
  }
  return sections.length ? `usage: collector/main.ts\n${sections.join('\n')}` : undefined;
}

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
  log.info('collector started', {
    host: collector.host, port: collector.port, tls: collector.tls, store: cfg.store.kind, sqlite_path: cfg.store.sqlite_path,
  });
  writeLine({ event: 'listening', host: collector.host, port: collector.port, tls: collector.tls });

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
    process.on('SIGHUP', () => {
      log.info('SIGHUP: reloading threat-intel sources');
      void collector.reloadIntel();
    });
  });
}

async function alerts(args: string[], log: Logger): Promise<number> {
  const { flags, positional } = parseFlags(args, ['url', 'token', 'since', 'min-severity', 'category', 'agent', 'host']);
  if (positional.length > 0) throw usageError(`unexpected argument ${positional[0]}`);
  const token = flags.token ?? process.env.GOALKEEPER_TOKEN;
  if (!flags.url) throw usageError('alerts needs --url ws://HOST:PORT');
  if (!token) throw usageError('alerts needs --token TOKEN (or GOALKEEPER_TOKEN)');
  let since: number | undefined;
  if (flags.since !== undefined) {
    since = Number(flags.since);
    if (!/^\d+$/.test(flags.since) || !Number.isSafeInteger(since)) throw usageError('--since must be a non-negative integer alert id');
  }
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw usageError(`--url is not a URL: ${flags.url}`);
  }
  // Filters travel as query parameters; the collector checks them (400 names a bad one).
  for (const name of ['min-severity', 'category', 'agent', 'host']) {
    if (flags[name] !== undefined) url.searchParams.set(name.replace('-', '_'), flags[name]);
  }
  const follower = followAlerts({ url: url.toString(), token, since, out: (line) => process.stdout.write(`${line}\n`), log });
  process.once('SIGTERM', () => follower.stop());
  process.once('SIGINT', () => follower.stop());
  await follower.done;
  return 0;
}

/** enrol create / agents list / agents revoke: work on the store named by --config, then exit. */
async function identityCommand(command: string, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const allowed = command === 'enrol' ? ['config', 'name', 'ttl-secs'] : ['config'];
  const { flags, positional } = parseFlags(rest, allowed);
  const valid = command === 'enrol' ? sub === 'create' && positional.length === 0
    : (sub === 'list' && positional.length === 0) || (sub === 'revoke' && positional.length === 1);
  if (!valid) throw usageError(command === 'enrol' ? 'usage: enrol create --config FILE [--name AGENT_ID] [--ttl-secs S]' : 'usage: agents list --config FILE | agents revoke AGENT_ID --config FILE');
  if (!flags.config) throw usageError(`${command} ${sub} needs --config FILE`);
  const cfg = loadConfigFile(flags.config);
  const store = await openStore(cfg.store);
  // The running collector may append to the audit chain too: AuditLog re-reads the tail when a seq is taken.
  const audit = new AuditLog(store, new Registry(), createLogger({ level: 'warn' }));
  const identity = buildIdentity(cfg, store, (e) => void audit.recordAdminAction(e.kind, e));
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    if (command === 'enrol') {
      const ttl = flags['ttl-secs'];
      if (ttl !== undefined && !/^\d+$/.test(ttl)) throw usageError('--ttl-secs must be a positive integer');
      await enrolCreate(identity, { name: flags.name, ttlSecs: ttl === undefined ? cfg.auth.enrol_token_ttl_secs : Number(ttl) }, out);
    } else if (sub === 'list') {
      await agentsList(cfg, store, out);
    } else {
      await agentsRevoke(identity, positional[0], out);
    }
  } finally {
    await audit.flush();
    await store.close();
  }
  return 0;
}


/** Opens the configured store (after --db), for the offline commands. */
async function openStoreFromFlags(flags: Flags): Promise<{ cfg: CollectorConfig; store: Store }> {
  if (!flags.config) throw usageError('needs --config FILE');
  const cfg = loadConfigFile(flags.config, flags.db !== undefined ? { sqlitePath: flags.db } : {});
  return { cfg, store: await openStore(cfg.store) };
}

async function stixExport(args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, ['config', 'db', 'since', 'min-severity', 'category', 'agent', 'host', 'limit', 'out']);
  if (positional.length > 0) throw usageError(`unexpected argument ${positional[0]}`);
  let sinceTs: number | undefined;
  if (flags.since !== undefined) {
    sinceTs = parseSince(flags.since);
    if (sinceTs === undefined) throw usageError(`--since must be an RFC 3339 time, unix seconds or an age like 24h/7d (got ${flags.since})`);
  }
  const sev = flags['min-severity'];
  if (sev !== undefined && !isSeverity(sev)) throw usageError(`--min-severity must be low, medium, high or critical (got ${sev})`);
  const limit = flags.limit === undefined ? 10_000 : Number(flags.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) throw usageError(`--limit must be a positive integer (got ${flags.limit})`);
  const list = (v: string | undefined): string[] | undefined => v?.split(',').map((x) => x.trim()).filter(Boolean);
  const filter = toAlertFilter({ min_severity: sev as Severity | undefined, categories: list(flags.category), agents: list(flags.agent), hosts: list(flags.host) });
  const { cfg, store } = await openStoreFromFlags(flags);
  try {
    const bundle = await exportStix(store, { name: cfg.stix.producer_name, identityClass: cfg.stix.producer_class, collectorId: cfg.collector_id }, { sinceTs, filter, limit });
    const text = `${JSON.stringify(bundle, null, 2)}\n`;
    if (flags.out) fs.writeFileSync(flags.out, text);
    else process.stdout.write(text);
    return 0;
  } finally {
    await store.close();
  }
}

async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify') throw usageError(`audit needs a subcommand: verify (got ${sub ?? 'nothing'})`);
  const { flags, positional } = parseFlags(rest, ['config', 'db']);
  if (positional.length > 0) throw usageError(`unexpected argument ${positional[0]}`);
  const { store } = await openStoreFromFlags(flags);
  try {
    const r = await verifyChain(store);
    writeLine({ ok: r.ok, entries: r.entries, last_hash: r.lastHash, broken: r.broken });
    return r.ok ? 0 : 3;
  } finally {
    await store.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const log = createLogger();
  const [command, ...rest] = argv;
  try {
    const help = rest.includes('--help') || rest.includes('-h') ? commandHelp(command) : undefined;
    if (help) {
      process.stdout.write(`${help}\n`);
      return 0;
    }
    switch (command) {
      case 'serve':
        return await serve(rest, log);
      case 'alerts':
        return await alerts(rest, log);
      case 'enrol':
      case 'agents':
        return await identityCommand(command, rest);
      case 'stix-export':
        return await stixExport(rest);
      case 'audit':
        return await auditCommand(rest);
      case 'hash-token':
        if (rest.length !== 1) throw usageError('hash-token needs exactly one TOKEN');
        process.stdout.write(`${sha256Hex(rest[0])}\n`);
        return 0;
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      case '--version':
      case '-V':
      case 'version':
        process.stdout.write(`${softwareVersion()}\n`);
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
