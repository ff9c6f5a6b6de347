// Identity on a real SQLite file: what authenticate() and stillValid() say through enrolment,
// revocation and re-enrolment, and that only digests reach the store.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Identity, type IdentityEvent } from '../../../collector/identity';
import { sha256Hex, TokenTable } from '../../../collector/ingest';
import type { AgentIdentity } from '../../../collector/model';
import { SqliteStore } from '../../../collector/store';
import { tempDir, type TapLike } from '../helpers';

function setup(t: TapLike): { identity: Identity; events: IdentityEvent[]; file: string; clock: { us: number } } {
  const file = path.join(tempDir(t), 'id.sqlite');
  const store = new SqliteStore({ path: file });
  t.teardown(() => store.close());
  const events: IdentityEvent[] = [];
  const clock = { us: 1_800_000_000_000_000 };
  const identity = new Identity({
    store,
    staticTokens: new TokenTable<AgentIdentity>([{ tokenSha256: sha256Hex('static-secret'), value: { agentId: 'gw-static' } }]),
    staticAgentIds: new Set(['gw-static']),
    onEvent: (e) => void events.push(e),
    nowUs: () => clock.us,
  });
  return { identity, events, file, clock };
}

t.test('enrol, authenticate, revoke, re-enrol: the old connection does not become valid again', async (t) => {
  const { identity, events, file } = setup(t);
  const tok = await identity.createToken({ name: 'gw1', ttlSecs: 60 });
  const first = await identity.enrol({ token: tok.token, agentId: '', hostname: 'h', remote: '127.0.0.1' });
  const a = await identity.authenticate(first.credential);
  t.ok('identity' in a && a.identity.agentId === 'gw1');
  const who = (a as { identity: AgentIdentity }).identity;
  t.equal(await identity.stillValid(who), true);

  await identity.revoke('gw1');
  t.same(await identity.authenticate(first.credential), { refused: 'revoked' });
  t.equal(await identity.stillValid(who), false);

  const again = await identity.enrol({ token: (await identity.createToken({ name: 'gw1', ttlSecs: 60 })).token, agentId: 'gw1', hostname: 'h', remote: '' });
  t.equal(await identity.stillValid(who), false, 'a connection opened with the revoked credential stays invalid after re-enrolment');
  const b = await identity.authenticate(again.credential);
  t.equal(await identity.stillValid((b as { identity: AgentIdentity }).identity), true);
  t.same(await identity.authenticate(first.credential), { refused: 'unknown' }, 'the old secret no longer matches');

  t.same(events.map((e) => e.kind), ['token_created', 'enrolled', 'revoked', 'token_created', 'enrolled'], 'every change went through record()');
  const raw = fs.readFileSync(file).toString('latin1') + (fs.existsSync(`${file}-wal`) ? fs.readFileSync(`${file}-wal`).toString('latin1') : '');
  for (const secret of [tok.token, first.credential, again.credential].map((s) => s.split('.').pop()!)) {
    t.notOk(raw.includes(secret), 'no secret in the SQLite files');
  }
});

t.test('static tokens, bogus credentials, expiry by the clock', async (t) => {
  const { identity, events, clock } = setup(t);
  t.same(await identity.authenticate('static-secret'), { identity: { agentId: 'gw-static' } });
  t.equal(await identity.stillValid({ agentId: 'gw-static' }), true);
  for (const bogus of [undefined, '', 'gka1.gw1', 'gka1..x', `gka1.gw1.${'A'.repeat(43)}`, 'gke1.0011223344556677.abc']) {
    t.same(await identity.authenticate(bogus), { refused: 'unknown' }, String(bogus));
  }
  const tok = await identity.createToken({ ttlSecs: 10 });
  clock.us += 10_000_000;
  await t.rejects(identity.enrol({ token: tok.token, agentId: 'gw9', hostname: '', remote: 'r' }), { code: 'COLL_ERR_ENROL_TOKEN_EXPIRED' });
  t.match(events.at(-1), { kind: 'enrol_refused', code: 'COLL_ERR_ENROL_TOKEN_EXPIRED', remote: 'r' });
  await t.rejects(identity.createToken({ name: 'gw-static', ttlSecs: 10 }), { code: 'COLL_ERR_ENROL_AGENT_EXISTS' });
  await t.rejects(identity.createToken({ name: 'bad name', ttlSecs: 10 }), { code: 'COLL_ERR_USAGE' });
  await t.rejects(identity.revoke('nobody'), { code: 'COLL_ERR_AGENT_UNKNOWN' });
});
