import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { COLLECTOR_ERROR_DESCRIPTIONS, CollectorError, CollectorErrorCode } from '../../collector/errors';

const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/collector.md'), 'utf8');

t.test('every error code is documented in docs/collector.md, and nothing else is', async (t) => {
  const codes = Object.values(CollectorErrorCode);
  t.same(Object.keys(COLLECTOR_ERROR_DESCRIPTIONS).sort(), [...codes].sort(), 'each code has a description');
  for (const code of codes) {
    t.ok(doc.includes(`| \`${code}\` | ${COLLECTOR_ERROR_DESCRIPTIONS[code]} |`), `${code} row matches the doc`);
  }
  const documented = [...doc.matchAll(/`(COLL_ERR_[A-Z_]+)`/g)].map((m) => m[1]);
  for (const d of new Set(documented)) t.ok((codes as string[]).includes(d), `${d} in the doc exists in errors.ts`);
});

t.test('CollectorError carries its code', async (t) => {
  const e = new CollectorError(CollectorErrorCode.LISTEN, 'x');
  t.equal(e.code, 'COLL_ERR_LISTEN');
  t.equal(e.name, 'CollectorError');
  t.ok(e instanceof Error);
});
