// The cluster section: off by default (one process, as before), validated like every section.
import t from 'tap';
import { validateConfig } from '../../../collector/config';

const minimal = { auth: { agents: [{ agent_id: 'gw1', token_sha256: 'a'.repeat(64) }] } };

t.test('cluster defaults: off, and the documented values', async (t) => {
  const cfg = validateConfig(minimal, '/etc/gk');
  t.same(cfg.cluster, {
    enabled: false, nats_url: 'nats://127.0.0.1:4222', stream: 'GOALKEEPER', partitions: 16, role: 'both',
    lease_ttl_ms: 5000, max_backlog_msgs: 2000, replay_window_secs: 600, partition_store_dir: '',
  });
  t.equal(validateConfig({ ...minimal, cluster: { partition_store_dir: 'parts' } }, '/etc/gk').cluster.partition_store_dir, '/etc/gk/parts', 'relative to the config folder');
});

t.test('cluster errors name the key', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [{ role: 'leader' }, /cluster\.role must be one of "ingest", "worker", "both"/],
    [{ partitions: 0 }, /cluster\.partitions must be an integer from 1 to 1024/],
    [{ nats_url: 'http://x' }, /cluster\.nats_url must be a nats:\/\/ or tls:\/\/ URL/],
    [{ stream: 'a.b' }, /cluster\.stream must be letters, digits, _ and -/],
    [{ lease_ttl_ms: 10 }, /cluster\.lease_ttl_ms must be an integer from 500/],
    [{ partitons: 4 }, /unknown key "cluster\.partitons"/],
  ];
  for (const [cluster, re] of bad) t.throws(() => validateConfig({ ...minimal, cluster }, '/'), re, JSON.stringify(cluster));
});

t.test('a cluster worker stores into PostgreSQL or partition files, never into its own SQLite file', async (t) => {
  const on = (cluster: Record<string, unknown>, store: Record<string, unknown> = {}) => validateConfig({ ...minimal, store, cluster: { enabled: true, ...cluster } }, '/');
  for (const role of ['both', 'worker']) {
    t.throws(() => on({ role }), /cluster: a worker \(cluster\.role "worker" or "both"\) stores into a PostgreSQL store shared by the cluster/, role);
    t.equal(on({ role }, { kind: 'postgres' }).cluster.role, role, `${role} with a PostgreSQL store`);
    t.equal(on({ role, partition_store_dir: 'parts' }).cluster.partition_store_dir, '/parts', `${role} with partition files`);
  }
  t.equal(on({ role: 'ingest' }).cluster.role, 'ingest', 'an ingest node stores no flows: its own SQLite file is fine');
  t.equal(validateConfig({ ...minimal, cluster: { role: 'both' } }, '/').cluster.enabled, false, 'nothing checked while the cluster is off');
});
