// Cluster tests: a real nats-server with JetStream (ephemeral port, temp store dir), collectors in
// cluster mode as child processes, and a TCP balancer that puts several collectors behind one address.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, sha256, startTs, type Proc } from './processes';

export interface NatsHandle {
  url: string;
  kill(): void;
}

export async function startNats(dir: string): Promise<NatsHandle> {
  const port = await freePort();
  const store = join(dir, 'jetstream');
  mkdirSync(store, { recursive: true });
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 15000;
  while (!/Server is ready/.test(log)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nats-server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `nats://127.0.0.1:${port}`, kill: () => child.kill('SIGKILL') };
}

export interface ClusterTokens {
  agents: Record<string, string>;
  subscriber: string;
}

export function clusterTokens(agentIds: string[]): ClusterTokens {
  return { agents: Object.fromEntries(agentIds.map((a) => [a, randomBytes(12).toString('hex')])), subscriber: randomBytes(12).toString('hex') };
}

export interface ClusterCollector {
  proc: Proc;
  port: number;
  dbPath: string;
  configPath: string;
}

/**
 * One collector in cluster mode. Its store: its own SQLite file (agents and health; flows go to the
 * partition stores in partitionStoreDir), or `store` (a PostgreSQL store shared by the cluster).
 * With `operatorToken` the dashboard and its /api/ are on, for that bearer token.
 */
export async function startClusterCollector(dir: string, name: string, o: {
  natsUrl: string; tokens: ClusterTokens; role: 'ingest' | 'worker' | 'both'; partitions: number; partitionStoreDir?: string; stream?: string; leaseTtlMs?: number;
  detect?: Record<string, unknown>; store?: Record<string, unknown>; operatorToken?: string;
}): Promise<ClusterCollector> {
  const dbPath = join(dir, `${name}.sqlite`);
  const configPath = join(dir, `${name}.json`);
  writeFileSync(configPath, JSON.stringify({
    collector_id: name,
    listen: { host: '127.0.0.1', port: 0 },
    store: o.store ?? { sqlite_path: dbPath, synchronous: 'normal' },
    auth: {
      agents: Object.entries(o.tokens.agents).map(([agent_id, t]) => ({ agent_id, token_sha256: sha256(t) })),
      subscribers: [{ name: 'tests', token_sha256: sha256(o.tokens.subscriber) }],
      operators: o.operatorToken ? [{ name: 'ops', token_sha256: sha256(o.operatorToken) }] : [],
    },
    web: { enabled: o.operatorToken !== undefined },
    ...(o.detect ? { detect: o.detect } : {}),
    cluster: {
      enabled: true, nats_url: o.natsUrl, stream: o.stream ?? 'GK', partitions: o.partitions, role: o.role,
      lease_ttl_ms: o.leaseTtlMs ?? 1500, partition_store_dir: o.partitionStoreDir ?? '',
    },
  }));
  const proc = startTs(['collector/main.ts', 'serve', '--config', configPath, '--log-level', 'info']);
  const line = await proc.waitFor(/"event":"listening"/);
  return { proc, port: JSON.parse(line).port as number, dbPath, configPath };
}

/** A TCP balancer on one loopback port: each connection goes to the next backend that accepts it. */
export async function startBalancer(backends: () => number[]): Promise<{ port: number; close(): void }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const ports = backends();
    const tryConnect = (left: number): void => {
      if (left === 0 || ports.length === 0) return void client.destroy();
      const port = ports[next++ % ports.length];
      const up = createConnection({ host: '127.0.0.1', port });
      up.once('connect', () => {
        sockets.add(up);
        up.on('close', () => { sockets.delete(up); client.destroy(); });
        client.on('close', () => up.destroy());
        client.on('error', () => up.destroy());
        up.on('error', () => client.destroy());
        client.pipe(up).pipe(client);
      });
      up.once('error', () => tryConnect(left - 1));
    };
    tryConnect(ports.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
