// Verdict regression test for the evaluation harness (scripts/eval.ts): replays a subset of
// ../shared/pcaps/labeled (used in place, never copied) through agent and collector and fails when a capture's verdict is worse
// than recorded here (an attack no longer alerted, a negative that alerts) or when the summary line
// changes shape. Improve a verdict → update VERDICTS in the same commit.
import * as path from 'node:path';
import t from 'tap';
import { validateConfig } from '../../collector/config';
import { evaluateFolder, renderTable, summaryLine } from '../../scripts/eval/evaluate';

const DIR = path.join(__dirname, '..', '..', '..', 'shared', 'pcaps', 'labeled');

/** capture → [verdict ok?, the categories that must be among its alerts] */
const VERDICTS: Record<string, [boolean, string[]]> = {
  'simplescan_port_scan.pcap': [true, ['port_scan']],
  'simplescan_445_scan.pcap': [true, ['host_scan']],
  'simplescan_scan_with_zero_windows.pcap': [true, ['host_scan']],
  'simplescan_backscatter_negative.pcap': [true, []],
  'suricata_syn-flood.pcap': [true, ['syn_flood']],
  'suricata_threshold_icmp-8pings.pcap': [true, []],
  'dnstun_dns2tcp.pcap': [true, ['dns_tunnel']],
  'dnstun_dnscat2.pcap': [true, ['dns_tunnel']],
  'dnstun_dnsexfiltrator.pcap': [true, ['dns_tunnel']],
  'zeek_ftp_bruteforce.pcap': [true, ['brute_force']],
  'slips_test12-icmp-portscan.pcap': [true, ['host_scan']],
  'zeek_benign_http_bro.org.pcap': [true, []],
  'slips_test7-malicious.pcap': [true, ['host_scan']],
  // payload-level attack (a malformed TLS heartbeat): invisible in flow features
  'zeek_tls_heartbleed.pcap': [false, []],
};

t.test('verdicts on the labeled subset do not regress', async (t) => {
  const detect = validateConfig({ auth: { agents: [] } }, DIR).detect;
  const rows = await evaluateFolder(DIR, detect, Object.keys(VERDICTS));
  t.same(rows.map((r) => r.file).sort(), Object.keys(VERDICTS).sort(), 'every capture of the subset evaluated');
  for (const r of rows) {
    const [ok, categories] = VERDICTS[r.file];
    if (ok) t.ok(r.ok, `${r.file}: ${r.expected === 'alert' ? 'alerted' : 'silent'} (got ${r.alerts.map((a) => a.category).join(', ') || 'none'})`);
    const got = new Set(r.alerts.map((a) => a.category));
    for (const c of categories) t.ok(got.has(c), `${r.file}: a ${c} alert`);
    if (r.expected === 'alert' && r.ok) t.ok(r.firstAlertSecs !== null && r.firstAlertSecs >= 0, `${r.file}: first-alert delay measured`);
  }
  const ftp = rows.find((r) => r.file === 'zeek_ftp_bruteforce.pcap')!;
  t.equal(ftp.precision, 1, 'per-flow precision where the manifest gives a BPF');
  const table = renderTable(rows);
  const last = table.split('\n').at(-1)!;
  t.equal(last, summaryLine(rows));
  t.match(last, /^attacks_alerted=10\/11 negatives_silent=3\/3 median_first_alert_s=\d+\.\d{3}$/);
});
