import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { loadConfigFile, parseHostPort, validateConfig } from '../../collector/config';
import { rawConfig, tempDir } from './helpers';

const HASH = 'a'.repeat(64);
const minimal = { auth: { agents: [{ agent_id: 'gw1', token_sha256: HASH }] } };

t.test('defaults, relative paths and freezing', async (t) => {
  const cfg = validateConfig(minimal, '/etc/goalkeeper');
  t.same(cfg.listen, { host: '127.0.0.1', port: 7470, tls: { cert_file: '', key_file: '', client_ca_file: '' } });
  t.equal(cfg.store.sqlite_path, '/etc/goalkeeper/goalkeeper.sqlite', 'relative to the config folder');
  t.equal(cfg.store.synchronous, 'full');
  t.same(cfg.limits, { max_frame_bytes: 16777216, max_flows_per_batch: 10000, max_connections_per_ip: 64, ping_interval_secs: 30, max_clock_skew_secs: 86400,
    max_pending_connections_per_ip: 32, handshake_timeout_secs: 10,
  });
  t.same(cfg.detect.port_scan, { enabled: true, min_ports: 5, window_secs: 300, suppress_secs: 3600, max_tracked_pairs: 100000 });
  t.same(cfg.auth.subscribers, []);
  t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.detect.port_scan) && Object.isFrozen(cfg.auth.agents[0]), 'deep-frozen');
  t.equal(validateConfig({ ...minimal, store: { sqlite_path: '/var/gk.db' } }, '/x').store.sqlite_path, '/var/gk.db');
  t.equal(cfg.store.kind, 'sqlite', 'SQLite unless configured otherwise');
  t.same(cfg.store.postgres, {
    url: '', host: 'localhost', port: 5432, database: 'goalkeeper', user: 'goalkeeper', password_file: '', pool_size: 10, retention_days: 30, partition_days: 1,
  });
  const pg = validateConfig({ ...minimal, store: { kind: 'postgres', postgres: { host: '/run/postgresql', password_file: 'pg.pw' } } }, '/etc/gk');
  t.match(pg.store, { kind: 'postgres', postgres: { host: '/run/postgresql', password_file: '/etc/gk/pg.pw' } });
  t.equal(validateConfig({ ...minimal, auth: { agents: [{ agent_id: 'a', token_sha256: 'AB'.repeat(32) }] } }, '/').auth.agents[0].token_sha256, 'ab'.repeat(32));
});

t.test('errors name the key', async (t) => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['unknown top-level key', { ...minimal, listne: {} }, /unknown key "listne"/],
    ['unknown nested key', { ...minimal, detect: { port_scan: { min_port: 3 } } }, /unknown key "detect\.port_scan\.min_port"/],
    ['bad port', { ...minimal, listen: { port: 70000 } }, /listen\.port must be an integer from 0 to 65535 \(got 70000\)/],
    ['port as string', { ...minimal, listen: { port: '80' } }, /listen\.port must be an integer/],
    ['missing auth', {}, /auth is required/],
    ['tls cert without key', { ...minimal, listen: { tls: { cert_file: 'c.pem' } } }, /listen\.tls\.cert_file and listen\.tls\.key_file must be given together/],
    ['client CA without TLS', { ...minimal, listen: { tls: { client_ca_file: 'ca.pem' } } }, /client_ca_file needs listen\.tls\.cert_file/],
    ['bad hash', { auth: { agents: [{ agent_id: 'gw1', token_sha256: 'nothex' }] } }, /auth\.agents\[0\]\.token_sha256 must be 64 hex digits/],
    ['duplicate agent', { auth: { agents: [{ agent_id: 'gw1', token_sha256: HASH }, { agent_id: 'gw1', token_sha256: 'b'.repeat(64) }] } }, /auth\.agents\[1\]\.agent_id "gw1" is listed twice/],
    ['shared token', { auth: { agents: [{ agent_id: 'gw1', token_sha256: HASH }], subscribers: [{ name: 's', token_sha256: HASH }] } }, /same token_sha256/],
    ['bad enum', { ...minimal, store: { synchronous: 'off' } }, /store\.synchronous must be one of "full", "normal"/],
    ['bad bool', { ...minimal, detect: { port_scan: { enabled: 'yes' } } }, /detect\.port_scan\.enabled must be true or false/],
    ['not an object', [], /config must be an object/],
    ['bad store kind', { ...minimal, store: { kind: 'mysql' } }, /store\.kind must be one of "sqlite", "postgres"/],
    ['postgres url and host', { ...minimal, store: { postgres: { url: 'postgres://db/gk', host: 'db', port: 5433 } } }, /store\.postgres: give url or host\/port, not both/],
    ['postgres bad url', { ...minimal, store: { postgres: { url: 'mysql://db' } } }, /store\.postgres\.url must be a postgres:\/\/ or postgresql:\/\/ URL/],
    ['postgres partition_days 0', { ...minimal, store: { postgres: { partition_days: 0 } } }, /store\.postgres\.partition_days must be an integer from 1 to 366/],
  ];
  for (const [name, raw, re] of bad) {
    t.throws(() => validateConfig(raw, '/'), { code: 'COLL_ERR_CONFIG_INVALID', message: re }, name);
  }
});

t.test('loadConfigFile: JSON errors, overrides, path in the message', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'collector.json');
  fs.writeFileSync(file, '{ "listen": ');
  t.throws(() => loadConfigFile(file), { code: 'COLL_ERR_CONFIG_UNREADABLE', message: /not valid JSON/ });
  t.throws(() => loadConfigFile(path.join(dir, 'missing.json')), { code: 'COLL_ERR_CONFIG_UNREADABLE' });
  fs.writeFileSync(file, JSON.stringify(rawConfig('db/gk.sqlite', { listen: { host: '0.0.0.0', port: 1 } })));
  const cfg = loadConfigFile(file, { listen: { host: '127.0.0.1', port: 0 }, sqlitePath: 'other.sqlite' });
  t.same(cfg.listen, { host: '127.0.0.1', port: 0, tls: { cert_file: '', key_file: '', client_ca_file: '' } });
  t.equal(cfg.store.sqlite_path, path.resolve('other.sqlite'), '--db is relative to the current directory');
  t.equal(loadConfigFile(file).store.sqlite_path, path.join(dir, 'db/gk.sqlite'));
  fs.writeFileSync(file, JSON.stringify({ ...minimal, bogus: 1 }));
  t.throws(() => loadConfigFile(file), { message: new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: unknown key "bogus"`) });
});

t.test('parseHostPort', async (t) => {
  t.same(parseHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  t.same(parseHostPort('[::1]:7470'), { host: '::1', port: 7470 });
  t.same(parseHostPort('localhost:99999'), undefined);
  t.same(parseHostPort('nohost'), undefined);
});
