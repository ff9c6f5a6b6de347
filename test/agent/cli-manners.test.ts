// The agent's command line as scripts and people meet it: every flag in --help is accepted, the
// version is the package's, config errors name the file and the option, the progress bar goes to
// stderr only (forced with --progress, by default on a terminal, never otherwise).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startTs, tempDir } from '../helpers/processes';
import { parseCli, USAGE } from '../../agent/cli';

const DEMO = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

t.test('every flag --help lists is one the parser takes, and the reverse', async (t) => {
  const flags = [...new Set(USAGE.match(/--[a-z][a-z0-9-]*/g))];
  t.ok(flags.length > 15, `flags in --help: ${flags.join(' ')}`);
  for (const flag of flags) {
    const takes = (args: string[]): boolean => {
      try { parseCli(args); return true; } catch { return false; }
    };
    t.ok(takes([flag]) || takes([flag, '1']), `${flag} is accepted`);
  }
  t.throws(() => parseCli(['--no-such-flag']), /no-such-flag.*see --help/);
});

t.test('--version and -v print the package version, --help and -h the usage; exit 0', async (t) => {
  const [version, v, help, h] = ['--version', '-v', '--help', '-h'].map((flag) => startTs(['agent/main.ts', flag]));
  for (const p of [version, v, help, h]) t.equal(await p.exited, 0);
  t.same(version.stdout, [VERSION]);
  t.same(v.stdout, [VERSION]);
  for (const p of [help, h]) {
    t.match(p.stdout.join('\n'), /^Usage: goalkeeper-agent/);
    t.match(p.stdout.join('\n'), /Exit status: 0 .*\n2 bad usage or configuration; 3 capture or delivery failed; 70/);
  }
});

t.test('a config error names the file and the option (or the command line)', async (t) => {
  const dir = tempDir();
  const file = join(dir, 'agent.json');
  writeFileSync(file, JSON.stringify({ flow: { max_flows: 3 } }));
  const urlFile = join(dir, 'url.json');
  writeFileSync(urlFile, JSON.stringify({ agent_id: 'gw1', collector: { url: 'http://collector', token: 'x' } }));
  const p = startTs(['agent/main.ts', '--config', file, '--read', DEMO, '--jsonl', '-']);
  const cli = startTs(['agent/main.ts', '--config', file, '--read', DEMO, '--jsonl', '-', '--max-flows', '8']);
  const url = startTs(['agent/main.ts', '--config', urlFile, '--read', DEMO]);

  t.equal(await p.exited, 2);
  const e = JSON.parse(p.stderr.find((l) => l.includes('AGENT_ERR_CONFIG_INVALID'))!);
  t.equal(e.message, `config file ${file}: option "flow.max_flows" must be a number from 16 to 16777216, got 3`);
  t.equal(await cli.exited, 2);
  t.match(cli.stderr.join('\n'), /command line: option \\"flow.max_flows\\"/, 'the flag overrode the file, so the flag is blamed');

  t.equal(await url.exited, 2);
  t.match(url.stderr.join('\n'), new RegExp(`config file ${urlFile}: collector URL`));
});

function progressLines(stderr: string[]): string[] {
  return stderr.filter((l) => l.startsWith('gateway-scan.pcap ['));
}

t.test('--progress: a bar on stderr while reading, flows alone on stdout', async (t) => {
  // Paced, so the read lasts long enough for more than the final line.
  const p = startTs(['agent/main.ts', '--read', DEMO, '--jsonl', '-', '--progress', '--replay-pps', '1000']);
  t.equal(await p.exited, 0);
  const bars = progressLines(p.stderr);
  t.ok(bars.length >= 2, `progress lines: ${bars.length}`);
  const pct = bars.map((l) => Number(/\] +(\d+)%/.exec(l)![1]));
  t.ok(pct[0] < 100, 'a line before the end');
  t.equal(pct[pct.length - 1], 100);
  t.same([...pct].sort((a, b) => a - b), pct, 'never goes back');
  t.match(bars[bars.length - 1], /1\.2 MiB\/1\.2 MiB [\d.]+ (B|KiB|MiB)\/s ETA 0:00$/);
  t.equal(p.stdout.length, 91);
  t.ok(p.stdout.every((l) => l.startsWith('{"flow_id"')), 'stdout holds only flows');
});

t.test('without --progress and without a terminal: no bar', async (t) => {
  const p = startTs(['agent/main.ts', '--read', DEMO, '--jsonl', '-']);
  t.equal(await p.exited, 0);
  t.same(progressLines(p.stderr), []);
  t.notOk(p.stderr.some((l) => l.includes('%')));
});

t.test('on a terminal the bar is drawn by default, in place', async (t) => {
  const cmd = [process.execPath, '--import', 'tsx', 'agent/main.ts', '--read', DEMO, '--jsonl', '/dev/null'].map((a) => `'${a}'`).join(' ');
  // script(1) runs the agent on a pseudo-terminal.
  const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8' });
  t.match(out, /\rgateway-scan\.pcap \[#{24}\] 100% .*\x1b\[K\r?\n/);
  // Flows printed on that same terminal: no bar in between them, unless asked for.
  const toTerminal = cmd.replace("'/dev/null'", "'-'");
  t.notMatch(execFileSync('script', ['-qec', toTerminal, '/dev/null'], { cwd: ROOT, encoding: 'utf8' }), /gateway-scan\.pcap \[/);
  t.match(execFileSync('script', ['-qec', `${toTerminal} --progress`, '/dev/null'], { cwd: ROOT, encoding: 'utf8' }), /gateway-scan\.pcap \[#{24}\] 100%/);
});

t.test("--read - reads the capture from stdin (tcpdump -w - | agent --read -): the same records as from the file", async (t) => {
  const run = (args: string[], input?: Buffer): string[] => execFileSync(process.execPath, ['--import', 'tsx', 'agent/main.ts', ...args],
    { cwd: ROOT, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] }).trim().split('\n');
  const fromFile = run(['--read', DEMO, '--jsonl', '-']);
  const fromStdin = run(['--read', '-', '--jsonl', '-', '--progress'], readFileSync(DEMO));
  t.ok(fromFile.length > 10, `${fromFile.length} records`);
  t.same(fromStdin, fromFile);
});
