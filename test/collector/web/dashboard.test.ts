// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real
// collector holding real data: a real agent process replays the demo capture (a minute of gateway
// traffic with a port scan). Screenshots go to test-artifacts/ (gitignored).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { sha256Hex } from '../../../collector/ingest';
import type { NewAlert, Severity } from '../../../collector/model';
import { ROOT, startTs, tempDir } from '../../helpers/processes';
import { fetchText, startTestCollector, TOKENS, upgradeStatus } from '../helpers';

const OPERATOR_TOKEN = 'operator-alice-token-0123456789';
const CAPTURE = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');
const ARTIFACTS = join(ROOT, 'test-artifacts');

function alert(severity: Severity, category: string, src: string): NewAlert {
  return {
    category, severity, attack_id: 'T1071', agent_id: 'gw1', src_ip: src, dst_ip: '198.51.100.7', dst_port: 443,
    first_ts: 1_700_000_000, last_ts: 1_700_000_600, score: 0.9, threshold: 0.8, evidence: { note: '<img src=x onerror=alert(1)>' },
  };
}

async function launch(t: { teardown(fn: () => unknown): void }): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'gk-op-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  t.teardown(async () => {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return ctx;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });
}

t.test('operator dashboard: login, agents, charts, detectors, live filtered feed, evidence flows', async (t) => {
  const c = await startTestCollector(t, {
    extra: {
      auth: {
        agents: [{ agent_id: 'gw1', token_sha256: sha256Hex(TOKENS.gw1) }],
        subscribers: [{ name: 'soc', token_sha256: sha256Hex(TOKENS.soc) }],
        operators: [{ name: 'alice', token_sha256: sha256Hex(OPERATOR_TOKEN) }],
      },
    },
  });
  const base = `http://127.0.0.1:${c.port}`;

  // Real data: the demo capture through a real agent process.
  const dir = tempDir('gk-op-web-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Paced (about a second) with frequent heartbeats, so the collector also holds the agent's health.
  const agentCfg = join(dir, 'agent.json');
  writeFileSync(agentCfg, JSON.stringify({
    agent_id: 'gw1',
    source: { file: CAPTURE, replay_pps: 1500 },
    collector: { url: `ws://127.0.0.1:${c.port}`, token: TOKENS.gw1, heartbeat_interval_ms: 100 },
  }));
  const agent = startTs(['agent/main.ts', '--config', agentCfg]);
  const status = await agent.exited;
  if (status !== 0) t.comment(agent.stderr.join('\n'));
  t.equal(status, 0, 'the agent replayed the capture');
  const scan = c.alerts.find((a) => a.category === 'port_scan');
  t.ok(scan, 'the capture raised its port scan alert');

  // Without a login: 401 on the API and on the live feed; the page itself loads (it only has code).
  for (const p of ['/api/agents', '/api/alerts', `/api/alerts/${scan!.id}`, '/api/stix', '/api/detectors']) {
    t.equal((await fetchText(`${base}${p}`)).status, 401, `${p} needs a login`);
  }
  t.equal(await upgradeStatus(`ws://127.0.0.1:${c.port}/v1/alerts`), 401);
  const bearer = await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } });
  t.same(await bearer.json(), { name: 'alice', collector_id: c.config.collector_id, version: '0.1.0' }, 'bearer token works for scripts');
  const index = await fetch(`${base}/`);
  t.match(index.headers.get('content-security-policy'), /script-src 'self'/);

  const ctx = await launch(t);
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(base);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#token', 'not-the-token');
  await page.click('#login-form button');
  await page.waitForSelector('#login-error:has-text("Unknown token")');
  await shot(page, 'login');
  await page.fill('#token', OPERATOR_TOKEN);
  await page.click('#login-form button');
  await page.waitForSelector('#overview-view:not([hidden])');

  const cookies = await ctx.cookies(base);
  const session = cookies.find((k) => k.name === 'gk_session');
  t.ok(session, 'session cookie set');
  t.equal(session!.httpOnly, true, 'HttpOnly');
  t.equal(session!.sameSite, 'Strict', 'SameSite=Strict');
  t.equal(await page.evaluate('document.cookie'), '', 'invisible to page scripts');

  // Agents with status, last seen, capture rate, drops.
  const agentRow = page.locator('#agents tr[data-agent="gw1"]');
  await agentRow.waitFor();
  const cells = await agentRow.locator('td').allTextContents();
  t.equal(cells[1], 'online');
  t.match(cells[2], /s ago|min ago/);
  t.match(cells[5], /^[\d,.]+ pkt\/s$/);
  t.ok(Number(cells[5].replace(/[^\d.]/g, '')) > 0, 'capture rate from the batches of the last minute');
  t.match(cells[4], /gateway-scan\.pcap/);
  t.equal(cells[6], '0', 'drops from the last heartbeat (none: a file)');
  t.match(cells[7], /^\d+$/, 'active flows from the last heartbeat');

  // Charts drawn from the stored flows.
  await page.waitForSelector('#traffic-chart svg path.area');
  const bars = page.locator('#talkers-chart rect.bar');
  await bars.first().waitFor();
  t.ok((await bars.count()) >= 3, 'top talker bars');
  const api = (await (await fetch(`${base}/api/top-talkers?window_secs=3600&limit=10`, { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } })).json()) as { talkers: Array<{ ip: string }> };
  t.equal(await bars.first().getAttribute('data-ip'), api.talkers[0].ip, 'the biggest talker first');

  // Detectors and their state; the audit chain.
  const det = page.locator('#detectors tr[data-detector="port_scan"] td');
  await det.first().waitFor();
  const detCells = await det.allTextContents();
  t.match(detCells[1], /min_ports=5/);
  t.match(detCells[2], /tracked_pairs=\d+/);
  await page.waitForSelector('#audit:has-text("Audit chain intact")');

  // The feed shows the scan; then live alerts arrive over the WebSocket, through the filters.
  await page.waitForSelector(`#feed tr[data-alert-id="${scan!.id}"]`);
  await page.waitForSelector('#feed-status:has-text("live")');
  await shot(page, 'overview');
  const live = await c.collector.hub.raise(alert('high', 'beaconing', '10.0.0.66'));
  await page.waitForSelector(`#feed tr[data-alert-id="${live!.id}"]`);
  t.equal(await page.locator(`#feed tr[data-alert-id="${live!.id}"] td`).nth(3).textContent(), 'beaconing');

  await page.selectOption('#f-severity', 'critical');
  await page.fill('#f-host', '10.0.0.77');
  await page.click('#filters button');
  // The feed is cleared and refilled through the filter: the status may still read "live" from before.
  await page.waitForFunction("document.querySelectorAll('#feed tbody tr').length === 0", undefined, { timeout: 10_000 }).catch(() => undefined);
  await page.waitForSelector('#feed-status:has-text("live")');
  t.equal(await page.locator('#feed tbody tr').count(), 0, 'nothing critical about 10.0.0.77 yet');
  const medium = await c.collector.hub.raise(alert('medium', 'beaconing', '10.0.0.77'));
  const otherHost = await c.collector.hub.raise(alert('critical', 'beaconing', '10.0.0.78'));
  const critical = await c.collector.hub.raise(alert('critical', 'exfiltration', '10.0.0.77'));
  await page.waitForSelector(`#feed tr[data-alert-id="${critical!.id}"]`);
  t.equal(await page.locator(`#feed tr[data-alert-id="${medium!.id}"]`).count(), 0, 'below the severity filter');
  t.equal(await page.locator(`#feed tr[data-alert-id="${otherHost!.id}"]`).count(), 0, 'another host');
  await shot(page, 'feed-filtered');

  // Cookie auth on the WebSocket only from this origin.
  const cookieHeader = `gk_session=${session!.value}`;
  t.equal(await upgradeStatus(`ws://127.0.0.1:${c.port}/v1/alerts`, { Cookie: cookieHeader, Origin: base }), 101);
  t.equal(await upgradeStatus(`ws://127.0.0.1:${c.port}/v1/alerts`, { Cookie: cookieHeader, Origin: 'http://evil.example' }), 401, 'cross-site WebSocket refused');

  // The scan's page with its evidence flows.
  await page.selectOption('#f-severity', 'low');
  await page.fill('#f-host', '');
  await page.click('#filters button');
  await page.click(`#feed tr[data-alert-id="${scan!.id}"]`);
  await page.waitForSelector('#alert-view:not([hidden])');
  await page.waitForSelector('#alert-flows tbody tr[data-flow-id]');
  const flowIds = scan!.evidence.flow_ids as number[];
  t.equal(await page.locator('#alert-flows tbody tr[data-flow-id]').count(), flowIds.length, 'one row per evidence flow');
  const shownIds = (await page.locator('#alert-flows tbody tr').evaluateAll((rows) => rows.map((r) => Number((r as unknown as { dataset: { flowId: string } }).dataset.flowId))));
  t.same([...shownIds].sort((a, b) => a - b), [...flowIds].sort((a, b) => a - b));
  t.match(await page.locator('#alert-title').textContent(), new RegExp(`Alert #${scan!.id}: port_scan`));
  const dsts = await page.locator('#alert-flows tbody tr td:nth-child(5)').allTextContents();
  t.ok(dsts.every((d) => d.startsWith(`${scan!.dst_ip}:`)), 'every flow goes to the scanned host');
  await shot(page, 'alert');

  // A live alert's page renders hostile evidence as text.
  await page.goto(`${base}/#/alerts/${live!.id}`);
  await page.waitForSelector('#alert-evidence:has-text("onerror")');
  t.equal(await page.locator('#alert-evidence img').count(), 0, 'evidence is text, not HTML');

  // Logout ends the session for the browser and for the cookie.
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  t.equal((await fetch(`${base}/api/me`, { headers: { Cookie: cookieHeader } })).status, 401);
  t.same(pageErrors, [], 'no script errors, no dialogs');
});
