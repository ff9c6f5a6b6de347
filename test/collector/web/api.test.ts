// The dashboard's JSON API without a browser: bearer auth, parameter checks, the login route's
// refusals, paging, the STIX route, the incremental audit check, and web.enabled=false.
import Database from 'better-sqlite3';
import t from 'tap';
import { sha256Hex } from '../../../collector/ingest';
import type { NewAlert, Severity } from '../../../collector/model';
import { startTestCollector, TOKENS } from '../helpers';

const OP = 'operator-bob-token-0123456789';

function auth(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auth: {
      agents: [{ agent_id: 'gw1', token_sha256: sha256Hex(TOKENS.gw1) }],
      subscribers: [{ name: 'soc', token_sha256: sha256Hex(TOKENS.soc) }],
      operators: [{ name: 'bob', token_sha256: sha256Hex(OP) }],
    },
    ...extra,
  };
}

function alert(i: number, severity: Severity): NewAlert {
  return {
    category: 'port_scan', severity, attack_id: 'T1046', agent_id: 'gw1', src_ip: `172.16.2.${i}`, dst_ip: '10.0.0.1',
    dst_port: null, first_ts: 1_700_000_000, last_ts: 1_700_000_001, score: 5, threshold: 5, evidence: { flow_count: 5 },
  };
}

t.test('API: bearer auth, paging, filters, bad parameters, STIX, login refusals', async (t) => {
  const c = await startTestCollector(t, { extra: auth() });
  const base = `http://127.0.0.1:${c.port}`;
  const get = async (p: string, token = OP): Promise<{ status: number; body: any }> => {
    const r = await fetch(`${base}${p}`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: r.status, body: await r.json() };
  };
  for (let i = 1; i <= 7; i++) await c.collector.hub.raise(alert(i, i % 2 ? 'medium' : 'high'));

  t.equal((await get('/api/alerts', TOKENS.soc)).status, 401, 'a subscriber token is not an operator token');
  const page1 = await get('/api/alerts?limit=3');
  t.same(page1.body.alerts.map((a: { id: number }) => a.id), [7, 6, 5], 'newest first');
  const page2 = await get('/api/alerts?limit=3&before_id=5');
  t.same(page2.body.alerts.map((a: { id: number }) => a.id), [4, 3, 2]);
  const high = await get('/api/alerts?min_severity=high');
  t.same(high.body.alerts.map((a: { id: number }) => a.id), [6, 4, 2]);
  t.match(await get('/api/alerts?limit=0'), { status: 400, body: { error: /limit must be an integer from 1 to 1000/ } });
  t.match(await get('/api/alerts?min_severity=urgent'), { status: 400, body: { error: /min_severity/ } });
  t.match(await get('/api/alerts/999'), { status: 404, body: { error: 'no alert 999' } });
  t.match(await get('/api/nothing'), { status: 404 });

  const stix = await get('/api/stix?since=1h&min_severity=high');
  t.equal(stix.status, 200);
  t.same(stix.body.objects.filter((o: { type: string }) => o.type === 'indicator').map((o: { pattern: string }) => o.pattern).sort(),
    ["[ipv4-addr:value = '172.16.2.2']", "[ipv4-addr:value = '172.16.2.4']", "[ipv4-addr:value = '172.16.2.6']"]);
  t.match(await get('/api/stix?since=later'), { status: 400, body: { error: /since must be/ } });

  const post = (p: string, body: string, type = 'application/json'): Promise<Response> =>
    fetch(`${base}${p}`, { method: 'POST', headers: { 'Content-Type': type }, body });
  t.equal((await post('/api/login', JSON.stringify({ token: 'wrong' }))).status, 401);
  t.equal((await post('/api/login', `token=${OP}`, 'application/x-www-form-urlencoded')).status, 415, 'no form posts (CSRF)');
  t.equal((await post('/api/login', '{not json')).status, 400);
  t.equal((await post('/api/login', JSON.stringify({ token: 'x'.repeat(5000) }))).status, 413);
  t.equal((await fetch(`${base}/api/login`)).status, 405);
  const ok = await post('/api/login', JSON.stringify({ token: OP }));
  t.equal(ok.status, 200);
  t.match(ok.headers.get('set-cookie'), /^gk_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
  await c.collector.audit.flush();
  const chain = await (await fetch(`${base}/api/audit`, { headers: { Authorization: `Bearer ${OP}` } })).json();
  t.match(chain, { ok: true, entries: 1 + 7 + 1 }, 'config, 7 alerts, the login');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /audit_entries_total\{kind="admin.operator_login"\} 1/);
  t.match(metrics, /web_logins_total\{result="refused"\} 1/, 'only the wrong token counts; malformed requests are refused earlier');
  t.match(metrics, /web_logins_total\{result="ok"\} 1/);
});

t.test('API: the audit check is incremental and still catches a tampered new entry', async (t) => {
  const c = await startTestCollector(t, { extra: auth() });
  const get = async (p: string): Promise<any> => (await fetch(`http://127.0.0.1:${c.port}${p}`, { headers: { Authorization: `Bearer ${OP}` } })).json();
  await c.collector.hub.raise(alert(1, 'low'));
  t.match(await get('/api/audit'), { ok: true, entries: 2, broken: null });
  await c.collector.hub.raise(alert(2, 'low'));
  await c.collector.hub.raise(alert(3, 'low'));
  const db = new Database(c.dbPath);
  db.prepare("UPDATE audit_chain SET payload_json = replace(payload_json, '172.16.2.3', '172.16.2.9') WHERE seq = 4").run();
  db.close();
  t.match(await get('/api/audit'), { ok: false, entries: 3, broken: { seq: 4, reason: /hash does not match/ } });
});

t.test('web.enabled=false: no dashboard, no API', async (t) => {
  const c = await startTestCollector(t, { extra: auth({ web: { enabled: false } }) });
  for (const p of ['/', '/api/me', '/static/app.js']) t.equal((await fetch(`http://127.0.0.1:${c.port}${p}`)).status, 404, p);
});
