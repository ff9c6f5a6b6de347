// The README's first command: `npm run demo` runs a collector with its dashboard, an alert subscriber and
// an agent replaying the bundled capture, and says the scan was detected, stored, delivered and shown.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(__dirname, '..', '..');

t.test('npm run demo detects, stores, delivers and shows the port scan, then ends off a terminal', async (t) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'demo.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /subscriber received alert: \{.*"category":"port_scan".*"src_ip":"203\.0\.113\.66"/);
  t.match(r.stdout, /stored in SQLite: 91 flows, 1 alert\(s\)/);
  t.match(r.stdout, /dashboard: http:\/\/127\.0\.0\.1:\d+\/ {2}\(log in with the operator token [0-9a-f]{48}\)/);
  t.match(r.stdout, /demo done: the port scan was detected, stored, delivered and shown on the dashboard\./);
});
