// The flow meter against the synthetic campus capture's ground truth (../shared/bench generator's
// --truth CSV): every flow's initiator/responder tuple, VLAN, and packets and IP bytes per direction
// must match exactly.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED, startTs, tempDir } from '../helpers/processes';

interface Counts { flows: number; pf: number; pr: number; bf: number; br: number }

function add(map: Map<string, Counts>, key: string, pf: number, pr: number, bf: number, br: number): void {
  const c = map.get(key) ?? { flows: 0, pf: 0, pr: 0, bf: 0, br: 0 };
  c.flows++;
  c.pf += pf; c.pr += pr; c.bf += bf; c.br += br;
  map.set(key, c);
}

t.test('the synthetic campus capture: every flow matches the generator\'s ground truth', async (t) => {
  const dir = tempDir();
  const capture = join(dir, 'campus.pcap');
  const truthCsv = join(dir, 'truth.csv');
  execFileSync('python3', [join(SHARED, 'bench', 'gen_campus_pcap.py'), '--packets', '200000', '--duration', '120',
    '--seed', '3', '-o', capture, '--truth', truthCsv], { stdio: 'ignore' });

  const out = join(dir, 'flows.jsonl');
  // Timeouts longer than the capture: the generator's flows are whole conversations.
  const agent = startTs(['agent/main.ts', '--read', capture, '--jsonl', out, '--idle-timeout', '100000', '--active-timeout', '100000']);
  t.equal(await agent.exited, 0, agent.stderr.join('\n'));

  const truth = new Map<string, Counts>();
  const lines = readFileSync(truthCsv, 'utf8').trim().split('\n').slice(1);
  for (const line of lines) {
    const [, proto, vlan, ii, ip, ri, rp, , , pf, pr, bf, br] = line.split(',');
    const icmp = proto === '1' || proto === '58';
    add(truth, [proto, vlan || '-', ii, icmp ? 0 : ip, ri, icmp ? 0 : rp].join('|'), +pf, +pr, +bf, +br);
  }
  const ours = new Map<string, Counts>();
  for (const line of readFileSync(out, 'utf8').trim().split('\n')) {
    const f = JSON.parse(line);
    const icmp = f.proto === 1 || f.proto === 58;
    add(ours, [f.proto, f.vlan ?? '-', f.src_ip, icmp ? 0 : f.src_port, f.dst_ip, icmp ? 0 : f.dst_port].join('|'),
      f.fwd_packets, f.bwd_packets, f.fwd_ip_bytes, f.bwd_ip_bytes);
  }

  const missing = [...truth.keys()].filter((k) => !ours.has(k));
  const extra = [...ours.keys()].filter((k) => !truth.has(k));
  const wrong = [...truth.entries()].filter(([k, c]) => {
    const o = ours.get(k);
    return o && (o.pf !== c.pf || o.pr !== c.pr || o.bf !== c.bf || o.br !== c.br);
  });
  t.ok(lines.length > 4000, `${lines.length} ground-truth flows`);
  t.same(missing.slice(0, 5), [], `${missing.length} ground-truth flows we did not report`);
  t.same(extra.slice(0, 5), [], `${extra.length} flows we reported that are not in the ground truth`);
  t.same(wrong.slice(0, 5).map(([k, c]) => ({ k, truth: c, ours: ours.get(k) })), [], `${wrong.length} flows with other counts`);
  t.equal(ours.size, truth.size);
});
