// Agent identity end to end, real processes: `enrol create` makes a one-time token, an agent process
// trades it for its own credential (kept 0600) and delivers flows with it; reuse, expiry and bogus
// tokens are refused with coded errors; a revoked credential is cut off and refused; one agent cannot
// speak as another; static config tokens keep working.
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode } from '../../proto';
import { TestAgent, batchFrame, helloFrame, metricValue, scanFlows } from '../collector/helpers';
import { collectorCli, createToken, metricsText, postEnrol, startAgent, startIdCollector } from '../helpers/identity';
import { LABELED, stop, tempDir } from '../helpers/processes';

const CAPTURE = join(LABELED, 'simplescan_port_scan.pcap');

function flowsOf(dbPath: string, agentId: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM flows WHERE agent_id = ?').get(agentId) as { n: number }).n;
  } finally {
    db.close();
  }
}

async function readyAs(port: number, token: string, agentId: string): Promise<TestAgent> {
  const a = await TestAgent.connect(port, token);
  a.send(helloFrame(agentId));
  const w = await a.next();
  if (!w.welcome) throw new Error(`expected welcome, got ${JSON.stringify(w.toJSON())}`);
  return a;
}

t.test('enrolment: one token, one credential; the agent keeps it 0600 and uses it; reuse, expiry, bogus tokens refused', async (t) => {
  const dir = tempDir('gk-id-');
  const c = await startIdCollector(dir);
  t.teardown(() => stop(c.proc));
  const enrolUrl = `http://127.0.0.1:${c.port}/v1/enrol`;
  const token = createToken(c.configPath, ['--name', 'gw-e1']);
  t.match(token, /^gke1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/, 'enrol create prints the token');

  const credentialFile = join(dir, 'agent-credential.json');
  const agentConfig = {
    source: { file: CAPTURE },
    collector: { url: `ws://127.0.0.1:${c.port}`, enrol_token: token, credential_file: credentialFile, drain_timeout_ms: 20000 },
  };
  const first = startAgent(dir, 'agent', agentConfig);
  t.equal(await first.exited, 0, `the agent enrols and delivers (stderr: ${first.stderr.join('\n')})`);
  t.equal(statSync(credentialFile).mode & 0o777, 0o600, 'credential file is mode 0600');
  const saved = JSON.parse(readFileSync(credentialFile, 'utf8'));
  t.equal(saved.agent_id, 'gw-e1', 'the id the token was made for');
  t.match(saved.credential, /^gka1\.gw-e1\./);
  t.equal(flowsOf(c.dbPath, 'gw-e1'), 10, 'its flows are stored under its id');
  t.notOk(JSON.stringify(collectorCli(['agents', 'list', '--config', c.configPath])).includes(saved.credential.split('.').pop()), 'secret not in the listing');

  const second = startAgent(dir, 'agent', agentConfig);
  t.equal(await second.exited, 0, 'a restart uses the stored credential (the token is spent)');
  t.equal(flowsOf(c.dbPath, 'gw-e1'), 20);

  const reuse = await postEnrol(enrolUrl, { token });
  t.equal(reuse.status, 401);
  t.equal(reuse.json.error.code, 'COLL_ERR_ENROL_TOKEN_USED', 'a used token is refused');

  const short = createToken(c.configPath, ['--ttl-secs', '1']);
  await new Promise((r) => setTimeout(r, 1300));
  const expired = await postEnrol(enrolUrl, { token: short, agent_id: 'gw-late' });
  t.equal(expired.json.error.code, 'COLL_ERR_ENROL_TOKEN_EXPIRED', 'an expired token is refused');
  const tampered = `${token.slice(0, -4)}AAAA`;
  t.equal((await postEnrol(enrolUrl, { token: tampered })).json.error.code, 'COLL_ERR_ENROL_TOKEN_INVALID', 'a wrong secret is refused');
  t.equal((await postEnrol(enrolUrl, { tokn: token })).json.error.code, 'COLL_ERR_ENROL_BAD_REQUEST');
  const taken = await postEnrol(enrolUrl, { token: createToken(c.configPath), agent_id: 'gw-static' });
  t.equal(taken.json.error.code, 'COLL_ERR_ENROL_AGENT_EXISTS', 'a static agent id cannot be enrolled');

  const refused = startAgent(dir, 'refused', {
    agent_id: 'gw-e2', source: { file: CAPTURE },
    collector: { url: `ws://127.0.0.1:${c.port}`, enrol_token: token, credential_file: join(dir, 'other-credential.json') },
  });
  t.not(await refused.exited, 0, 'an agent with a spent token stops');
  t.match(refused.stderr.join('\n'), /AGENT_ERR_ENROL_REFUSED.*COLL_ERR_ENROL_TOKEN_USED/);

  const m = await metricsText(c.port);
  t.equal(metricValue(m, 'enrolments_total{result="ok"}'), 1);
  t.equal(metricValue(m, 'enrolments_total{result="COLL_ERR_ENROL_TOKEN_USED"}'), 2, 'the reuse and the refused agent');

  const legacy = await readyAs(c.port, c.staticToken, 'gw-static');
  t.pass('a static auth.agents token still works');
  legacy.close();

  const list = collectorCli(['agents', 'list', '--config', c.configPath]).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const e1 = list.find((a) => a.agent_id === 'gw-e1');
  t.match(e1, { credential: 'enrolled', state: 'active', hostname: String });
  t.ok(e1.last_seen && Date.parse(e1.last_seen) > Date.now() - 60_000, 'last seen recently');
  t.match(list.find((a) => a.agent_id === 'gw-static'), { credential: 'config', state: 'active' });
});

t.test('revocation cuts the agent off; one agent cannot send as another', async (t) => {
  const dir = tempDir('gk-id-');
  const c = await startIdCollector(dir);
  t.teardown(() => stop(c.proc));
  const enrolUrl = `http://127.0.0.1:${c.port}/v1/enrol`;
  const r1 = (await postEnrol(enrolUrl, { token: createToken(c.configPath), agent_id: 'gw-r1', hostname: 'h1' })).json;
  const r2 = (await postEnrol(enrolUrl, { token: createToken(c.configPath), agent_id: 'gw-r2', hostname: 'h2' })).json;
  t.equal(r1.agent_id, 'gw-r1');
  t.equal(r2.agent_id, 'gw-r2');

  const a1 = await readyAs(c.port, r1.credential, 'gw-r1');
  a1.send(batchFrame(1, scanFlows(3)));
  t.ok((await a1.next()).ack, 'an enrolled agent is served');

  // gw-r2's credential naming gw-r1 in its Hello: refused and closed.
  const imp = await TestAgent.connect(c.port, r2.credential);
  imp.send(helloFrame('gw-r1'));
  const err = await imp.next();
  t.equal(err.error?.code, ErrorCode.ERROR_CODE_AGENT_MISMATCH, 'Hello for another agent → AGENT_MISMATCH');
  t.equal((await imp.closed).code, 1008);
  // gw-r2's secret under gw-r1's name: not a credential at all.
  const spliced = `gka1.gw-r1.${String(r2.credential).split('.').pop()}`;
  await t.rejects(TestAgent.connect(c.port, spliced), /HTTP 401/, 'a secret only opens its own agent id');

  const revoke = collectorCli(['agents', 'revoke', 'gw-r1', '--config', c.configPath]);
  t.equal(revoke.status, 0, revoke.stderr);
  const closed = await Promise.race([a1.closed, new Promise<{ code: number; reason: string }>((r) => setTimeout(() => r({ code: 0, reason: 'still open' }), 5000))]);
  t.same(closed, { code: 1008, reason: 'REVOKED' }, 'the open connection is cut within revocation_check_secs');
  await t.rejects(TestAgent.connect(c.port, r1.credential), /HTTP 401/, 'the revoked credential is refused');
  const m = await metricsText(c.port);
  t.equal(metricValue(m, 'agent_refusals_total{reason="revoked"}'), 1);
  t.equal(metricValue(m, 'agent_refusals_total{reason="revoked_while_connected"}'), 1);
  t.equal(metricValue(m, 'agent_refusals_total{reason="unknown_credential"}'), 1);
  t.equal(metricValue(m, 'bad_frames_total{code="AGENT_MISMATCH"}'), 1);

  const again = collectorCli(['agents', 'revoke', 'gw-r1', '--config', c.configPath]);
  t.equal(again.status, 1);
  t.match(again.stderr, /COLL_ERR_AGENT_UNKNOWN/);
  t.match(collectorCli(['agents', 'revoke', 'gw-static', '--config', c.configPath]).stderr, /static credential/);

  const list = collectorCli(['agents', 'list', '--config', c.configPath]).stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.match(list.find((a) => a.agent_id === 'gw-r1'), { state: 'revoked', revoked_at: String });

  const back = (await postEnrol(enrolUrl, { token: createToken(c.configPath, ['--name', 'gw-r1']) })).json;
  t.equal(back.agent_id, 'gw-r1', 'a revoked id can be enrolled again');
  (await readyAs(c.port, back.credential, 'gw-r1')).close();
  await t.rejects(TestAgent.connect(c.port, r1.credential), /HTTP 401/, 'the old credential stays dead');
});
