// The `detect` section of the collector config: defaults, unknown keys, ranges, cross-field checks.
import * as path from 'node:path';
import t from 'tap';
import { validateConfig } from '../../../collector/config';
import { detectConfig } from './flows';

t.test('every detector is on by default with documented thresholds', async (t) => {
  const d = detectConfig();
  for (const k of ['port_scan', 'host_scan', 'trw', 'syn_flood', 'udp_flood', 'icmp_flood', 'brute_force', 'slow_dos', 'beaconing', 'exfiltration', 'dns_tunnel', 'threat_intel', 'anomaly'] as const) {
    t.equal(d[k].enabled, true, k);
  }
  t.equal(d.suppress_secs, 600);
  t.match(d.trw, { benign_success_prob: 0.8, scanner_success_prob: 0.2, false_positive_prob: 0.01, detection_prob: 0.99 });
  t.match(d.syn_flood, { min_packets_per_sec: 100, window_secs: 1 });
  t.match(d.anomaly, { learning_flows: 20_000, alert_rate: 0.0001 });
  t.ok(Object.isFrozen(d.brute_force.ports), 'deep-frozen');
});

t.test('bad detect config is refused naming the key', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ beaconing: { min_scor: 1 } }, /unknown key "detect\.beaconing\.min_scor"/],
    [{ nope: {} }, /unknown key "detect\.nope"/],
    [{ beaconing: { min_score: 1.5 } }, /detect\.beaconing\.min_score must be a number from 0 to 1/],
    [{ anomaly: { alert_rate: 'often' } }, /detect\.anomaly\.alert_rate must be a number/],
    [{ syn_flood: { window_secs: 0.5 } }, /detect\.syn_flood\.window_secs must be an integer/],
    [{ brute_force: { ports: [22, 70000] } }, /detect\.brute_force\.ports\[1\] must be an integer from 0 to 65535/],
    [{ trw: { scanner_success_prob: 0.9 } }, /scanner_success_prob must be below detect\.trw\.benign_success_prob/],
    [{ local_networks: ['10.0.0.0/40'] }, /detect\.local_networks\[0\]: prefix length 40 is over 32/],
    [{ local_networks: ['ten/8'] }, /detect\.local_networks\[0\] must be an address prefix/],
    [{ threat_intel: { sources: [{ path: 'a' }, { path: 'sub/a' }] } }, /name "a" is listed twice/],
  ];
  for (const [detect, re] of cases) t.throws(() => validateConfig({ auth: { agents: [] }, detect }, '/etc/gk'), re);
});

t.test('intel file paths resolve against the config file folder; names default to the file name', async (t) => {
  const d = validateConfig({ auth: { agents: [] }, detect: { threat_intel: { sources: [{ path: 'intel/list.txt' }, { url: 'https://x.example/f.json', format: 'stix' }] } } }, '/etc/gk').detect;
  t.match(d.threat_intel.sources[0], { path: path.resolve('/etc/gk/intel/list.txt'), name: 'list.txt', format: 'list' });
  t.match(d.threat_intel.sources[1], { url: 'https://x.example/f.json', name: 'https://x.example/f.json', format: 'stix' });
});
