// The collector's command line as scripts meet it: COMMAND --help for every command the usage lists,
// --version, and the documented exit codes (0 ok, 1 runtime failure, 2 bad usage or config) with a
// config error that names the file and the key.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT, startTs, tempDir } from '../helpers/processes';
import { commandHelp, USAGE } from '../../collector/main';

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
/** Every command the usage text describes (its lines indented by two spaces). */
const COMMANDS = [...new Set([...USAGE.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]))];

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = startTs(['collector/main.ts', ...args]);
  const code = await p.exited;
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}

t.test('COMMAND --help and COMMAND -h print that command\'s part of the usage, exit 0', async (t) => {
  t.ok(COMMANDS.length >= 3, `commands: ${COMMANDS.join(', ')}`);
  const runs = await Promise.all(COMMANDS.flatMap((c) => [run([c, '--help']), run([c, 'whatever', '-h'])]));
  COMMANDS.forEach((c, i) => {
    const help = commandHelp(c)!;
    t.match(help, new RegExp(`^ {2}${c}\\b`, 'm'));
    for (const r of [runs[2 * i], runs[2 * i + 1]]) {
      t.equal(r.code, 0, `${c} --help exits 0`);
      t.equal(r.stdout, help, `${c} --help prints its own part`);
      t.equal(r.stderr, '');
    }
    for (const other of COMMANDS.filter((o) => o !== c)) t.notMatch(help, new RegExp(`^ {2}${other}\\b`, 'm'), `${c}'s help is not ${other}'s`);
  });
  t.equal(commandHelp('no-such-command'), undefined);
});

t.test('--version, -V and version print the package version', async (t) => {
  for (const r of await Promise.all([run(['--version']), run(['-V']), run(['version'])])) {
    t.equal(r.code, 0);
    t.equal(r.stdout, VERSION);
  }
});

t.test('exit codes: 2 bad usage, 2 bad config naming file and key, 1 runtime failure', async (t) => {
  const dir = tempDir();
  const good = { listen: { host: '127.0.0.1', port: 0 }, store: { sqlite_path: join(dir, 'db.sqlite') }, auth: { agents: [] } };
  const okFile = join(dir, 'ok.json');
  writeFileSync(okFile, JSON.stringify(good));
  const file = join(dir, 'collector.json');
  writeFileSync(file, JSON.stringify({ ...good, detect: { port_scan: { min_ports: 1 } } }));
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const busy = (blocker.address() as AddressInfo).port;

  const [unknown, noCommand, badFlag, badConfig, portTaken] = await Promise.all([
    run(['no-such-command', '--help']),
    run([]),
    run(['serve', '--config', file, '--bogus', '1']),
    run(['serve', '--config', file]),
    run(['serve', '--config', okFile, '--listen', `127.0.0.1:${busy}`]),
  ]);
  for (const [name, r] of [['unknown command', unknown], ['no command', noCommand], ['unknown option', badFlag]] as const) {
    t.equal(r.code, 2, `${name}: exit 2`);
    t.match(r.stderr, /COLL_ERR_USAGE/);
  }
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, new RegExp(`${file}: detect\\.port_scan\\.min_ports must be an integer from 2`), 'names the file and the key');
  t.equal(portTaken.code, 1, 'cannot listen: exit 1');
  t.match(portTaken.stderr, /COLL_ERR_LISTEN/);
});
