// Agreement of our decoder with Wireshark on the dev captures (see scripts/lib/tshark-compare.ts for
// what is compared). Usage: npx tsx scripts/decode-agreement.ts [DIR]   (default ../shared/pcaps/dev
// relative to the repository root). Prints one line per capture, then every disagreement with its
// category, then the total line; exits 1 when a frame threw or a file failed unexpectedly.
import { join, resolve } from 'node:path';
import { compareWithTshark } from './lib/tshark-compare';

const pct = (a: number, n: number) => (n === 0 ? '-' : `${((a / n) * 100).toFixed(3)}%`);

async function main(): Promise<void> {
  const dir = resolve(process.argv[2] ?? join(__dirname, '..', '..', 'shared', 'pcaps', 'dev'));
  const r = await compareWithTshark(dir);
  const width = Math.max(...r.files.map((f) => f.file.length));
  for (const f of r.files) {
    const tail = f.skipped ? `  ${f.skipped}` : '';
    process.stdout.write(`${f.file.padEnd(width)}  packets=${f.packets} compared=${f.compared} agreed=${f.agreed} ${pct(f.agreed, f.compared)}${tail}\n`);
  }
  process.stdout.write(`\ndisagreements (${r.disagreements}):\n`);
  const byCategory = new Map<string, number>();
  for (const f of r.files) {
    for (const d of f.differences) {
      byCategory.set(d.category, (byCategory.get(d.category) ?? 0) + 1);
      process.stdout.write(`  ${f.file} frame ${d.frame} [${d.category}] ${d.detail}\n`);
    }
  }
  for (const [category, n] of [...byCategory].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${category}: ${n}\n`);
  for (const m of r.deeper) process.stdout.write(`tshark reads deeper: ${m.file} frame ${m.frame}: ${m.detail}\n`);
  for (const m of r.countMismatches) process.stdout.write(`frame count differs: ${m}\n`);
  for (const m of r.exceptionMessages) process.stdout.write(`exception: ${m}\n`);
  const tunnelled = r.files.reduce((n, f) => n + f.tunnelled, 0);
  const quoted = r.files.reduce((n, f) => n + f.quoted, 0);
  process.stdout.write(`${r.packets} frames read; ports compared on ${r.withPorts} packets; ${tunnelled} compared as tunnelled, ` +
    `${quoted} ICMP quotes compared; ${r.extraIp} packets decoded as IP where tshark shows none\n`);
  process.stdout.write(`agreement=${pct(r.agreed, r.compared)} packets=${r.compared} disagreements=${r.disagreements} exceptions=${r.exceptions}\n`);
  if (r.exceptions > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`${String(err?.stack ?? err)}\n`);
  process.exitCode = 2;
});
