import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { AGENT_ERROR_DESCRIPTIONS, AgentError, AgentErrorCode } from '../../agent/errors';

const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/agent.md'), 'utf8');

t.test('every agent error code is documented in docs/agent.md, and nothing else is', async (t) => {
  const codes = Object.values(AgentErrorCode);
  t.same(Object.keys(AGENT_ERROR_DESCRIPTIONS).sort(), [...codes].sort());
  for (const code of codes) t.ok(doc.includes(`| \`${code}\` | ${AGENT_ERROR_DESCRIPTIONS[code]} |`), `${code} row matches the doc`);
  const documented = new Set([...doc.matchAll(/`(AGENT_ERR_[A-Z_]+)`/g)].map((m) => m[1]));
  for (const d of documented) t.ok((codes as string[]).includes(d), `${d} in the doc exists in errors.ts`);
});

t.test('AgentError carries its code', async (t) => {
  const e = new AgentError(AgentErrorCode.INTERFACE, 'x');
  t.equal(e.code, 'AGENT_ERR_INTERFACE');
  t.ok(e instanceof Error);
});
