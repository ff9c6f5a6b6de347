// `npm run package` for real: builds the single executable and the .deb, installs the .deb with dpkg
// into a clean root (its own /etc, dpkg database and state; the system's /usr as the read-only lower
// layer of an overlay, so the package's files land only in the root), inside a private mount
// namespace that vanishes with the test. Then, from inside that root and as the package's own
// unprivileged user:
//   - the installed executable, started with the unit file's own ExecStart line, replays a capture
//     to a collector run from the sources, and the flows arrive in the collector's SQLite, the same
//     flows the agent from the sources meters;
//   - with only the unit's two capabilities it captures live on a veth in a network namespace, and
//     without them it is refused with AGENT_ERR_INTERFACE;
//   - systemd-analyze verifies the installed unit.
// Needs root, dpkg, util-linux (unshare, nsenter, setpriv), iproute2 and systemd's systemd-analyze.
import t from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ROOT, startCollector, startTs, stop, tempDir } from '../helpers/processes';

const id = `${process.pid % 100000}`;
const NS_A = `gkpa${id}`;
const NS_B = `gkpb${id}`;
const IF_A = `gpa${id}`;
const IF_B = `gpb${id}`;
// Documentation addresses, inside namespaces this test creates and removes.
const ADDR_A = '192.0.2.1';
const ADDR_B = '192.0.2.2';
const CAPTURE = join(ROOT, 'scripts', 'demo', 'gateway-scan.pcap');
const UNIT = '/lib/systemd/system/goalkeeper-agent.service';
const CREDENTIALS = '/run/credentials/goalkeeper-agent.service';
const DEPENDS = ['libpcap0.8', 'libc6', 'libstdc++6', 'libgcc-s1', 'adduser'];

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

interface Run { code: number; stdout: string; stderr: string }

function collect(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
}

/** A process that holds a private mount namespace open; everything below enters it with nsenter. */
class MountNamespace {
  private readonly holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });

  async ready(): Promise<void> {
    const mine = readlinkSync('/proc/self/ns/mnt');
    for (let i = 0; i < 200; i++) {
      try {
        if (readlinkSync(`/proc/${this.holder.pid}/ns/mnt`) !== mine) return;
      } catch { /* not there yet */ }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('unshare did not create a mount namespace');
  }

  /** argv to run a command inside the namespace (and, optionally, inside a network namespace). */
  argv(args: string[], netns?: string): string[] {
    return ['nsenter', '-t', String(this.holder.pid), '-m', ...(netns ? [`--net=/run/netns/${netns}`] : []), '--', ...args];
  }

  run(args: string[], input?: string): string {
    const [cmd, ...rest] = this.argv(args);
    return sh(cmd, rest, input);
  }

  spawn(args: string[], netns?: string): ChildProcess {
    const [cmd, ...rest] = this.argv(args, netns);
    // What systemd gives a service: no NODE_OPTIONS, no CA bundle paths from the test's environment.
    return spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' } });
  }

  close(): void {
    this.holder.kill('SIGKILL');
  }
}

/** A root with only the package's files over the system's /usr, and a dpkg that knows its Depends. */
function makeRoot(ns: MountNamespace, dir: string): string {
  const root = join(dir, 'root');
  for (const d of ['usr', 'upper', 'overlay-work']) mkdirSync(join(dir, d === 'usr' ? 'root/usr' : d), { recursive: true });
  for (const d of ['etc', 'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'tmp', 'dev', 'proc', 'run', 'root']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]) {
    symlinkSync(target, join(root, link));
  }
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:20000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\n', { mode: 0o640 });
  for (const f of ['adduser.conf', 'login.defs', 'nsswitch.conf', 'pam.conf', 'pam.d', 'security']) {
    cpSync(join('/etc', f), join(root, 'etc', f), { recursive: true });
  }
  // The packages the .deb depends on, as this system has them installed (the root sees its /usr).
  writeFileSync(join(root, 'var/lib/dpkg/status'), `${sh('dpkg-query', ['-s', ...DEPENDS]).trim()}\n\n`);
  for (const name of sh('dpkg-query', ['-W', '-f', '${binary:Package}\\n', ...DEPENDS]).split('\n').filter(Boolean)) {
    copyFileSync(`/var/lib/dpkg/info/${name}.list`, join(root, 'var/lib/dpkg/info', `${name}.list`));
  }
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  ns.run(['mount', '-t', 'overlay', 'overlay', '-o',
    `lowerdir=/usr,upperdir=${join(dir, 'upper')},workdir=${join(dir, 'overlay-work')}`, join(root, 'usr')]);
  ns.run(['mount', '--rbind', '/dev', join(root, 'dev')]);
  // The executable finds itself, and so its addon, through /proc/self/exe.
  ns.run(['mount', '-t', 'proc', 'proc', join(root, 'proc')]);
  return root;
}

/** The unit's ExecStart, User and AmbientCapabilities, as systemd would apply them. */
function unitCommand(ns: MountNamespace, root: string): { argv: string[]; user: string; caps: string[] } {
  // Through the namespace: the root's /usr (and so /lib) is an overlay mounted only there.
  const unit = ns.run(['cat', join(root, UNIT)]);
  const key = (name: string): string => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(unit);
    if (!m) throw new Error(`${UNIT} has no ${name}=`);
    return m[1].trim();
  };
  return {
    argv: key('ExecStart').split(/\s+/).map((a) => a.replace('%d', CREDENTIALS)),
    user: key('User'),
    caps: key('AmbientCapabilities').split(/\s+/).map((c) => c.replace(/^CAP_/, '').toLowerCase()),
  };
}

function dropTo(user: string, caps: string[]): string[] {
  const set = ['-all', ...caps.map((c) => `+${c}`)].join(',');
  return ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--clear-groups',
    `--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=${set}`, '--no-new-privs'];
}

t.test('the .deb installs into a clean root and its agent works there, unprivileged', async (t) => {
  const dir = tempDir('gk-package-');
  const out = join(dir, 'out');
  const ns = new MountNamespace();
  t.teardown(() => {
    ns.close();
    for (const n of [NS_A, NS_B]) {
      try { sh('ip', ['netns', 'del', n]); } catch { /* already gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // ---- build, as a user would ----
  const build = await collect(spawn('npm', ['run', '-s', 'package', '--', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  t.equal(build.code, 0, 'npm run package', { stderr: build.stderr });
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const deb = join(out, `goalkeeper-agent_${version}_amd64.deb`);
  t.ok(statSync(join(out, 'goalkeeper-agent')).mode & 0o100, 'the executable is built');
  t.ok(statSync(join(out, 'pcap_binding.node')).isFile(), 'the addon sits beside it');
  const control = sh('dpkg-deb', ['-f', deb]);
  t.match(control, /^Depends: .*libpcap0\.8/m, 'Depends names libpcap');
  t.equal(sh('dpkg-deb', ['-f', deb, 'Version']).trim(), version);
  const contents = sh('dpkg-deb', ['-c', deb]);
  for (const p of ['./usr/lib/goalkeeper-agent/goalkeeper-agent', './usr/lib/goalkeeper-agent/pcap_binding.node',
    './usr/bin/goalkeeper-agent -> ../lib/goalkeeper-agent/goalkeeper-agent', `.${UNIT}`, './etc/goalkeeper/agent.json']) {
    t.ok(contents.includes(p), `the .deb holds ${p}`);
  }
  t.notMatch(contents, /\/work\/|node_modules/, 'nothing from the build tree');

  // The executable alone: files need no libpcap; a live capture names the missing addon.
  const alone = join(dir, 'alone');
  mkdirSync(alone);
  copyFileSync(join(out, 'goalkeeper-agent'), join(alone, 'goalkeeper-agent'));
  chmodSync(join(alone, 'goalkeeper-agent'), 0o755);
  const env = { PATH: process.env.PATH };
  const offline = await collect(spawn(join(alone, 'goalkeeper-agent'), ['--read', CAPTURE, '--jsonl', '-'], { env }));
  t.equal(offline.code, 0, 'reads a capture file without the addon', { stderr: offline.stderr });
  t.equal(offline.stdout.trim().split('\n').length, 91, 'all 91 flows of the demo capture');
  const noAddon = await collect(spawn(join(alone, 'goalkeeper-agent'), ['-i', 'lo', '--jsonl', '-'], { env }));
  t.equal(noAddon.code, 3);
  t.match(noAddon.stderr, new RegExp(`AGENT_ERR_INTERFACE.*cannot load the libpcap addon ${join(alone, 'pcap_binding.node')}: no such file`));

  // ---- install into a clean root ----
  await ns.ready();
  const root = makeRoot(ns, dir);
  ns.run(['dpkg', `--root=${root}`, '--log=/dev/null', '-i', deb]);
  t.match(ns.run(['dpkg', `--root=${root}`, '-s', 'goalkeeper-agent']), /^Status: install ok installed$/m, 'dpkg says installed');
  t.match(readFileSync(join(root, 'var/lib/dpkg/info/goalkeeper-agent.conffiles'), 'utf8'), /\/etc\/goalkeeper\/agent\.json/);
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
  t.match(passwd, /^goalkeeper:x:\d+:\d+:.*:\/var\/lib\/goalkeeper:\/usr\/sbin\/nologin$/m, 'postinst made a system user without a shell');
  const uid = Number(/^goalkeeper:x:(\d+):/m.exec(passwd)![1]);
  t.ok(uid > 0 && uid < 1000, `a system uid (${uid})`);
  const cfgStat = statSync(join(root, 'etc/goalkeeper/agent.json'));
  t.equal(cfgStat.mode & 0o777, 0o640, 'agent.json readable by root and the goalkeeper group only');
  t.equal(cfgStat.uid, 0);
  const tokenStat = statSync(join(root, 'etc/goalkeeper/agent.token'));
  t.equal(tokenStat.mode & 0o777, 0o600, 'agent.token is root-only');
  t.equal(statSync(join(root, 'var/lib/goalkeeper')).uid, uid, 'the state folder belongs to goalkeeper');
  // Configuring again (what an upgrade does) is harmless.
  ns.run(['chroot', root, '/var/lib/dpkg/info/goalkeeper-agent.postinst', 'configure', version]);
  t.equal(readFileSync(join(root, 'etc/passwd'), 'utf8'), passwd, 'a second postinst run adds no user');

  // ---- the installed unit ----
  const verify = await collect(ns.spawn(['systemd-analyze', 'verify', `--root=${root}`, UNIT]));
  t.equal(verify.code, 0, 'systemd-analyze verify passes');
  t.equal(verify.stderr.trim(), '', 'and finds nothing to say');
  const unit = unitCommand(ns, root);
  t.same(unit.caps.sort(), ['net_admin', 'net_raw']);
  t.equal(unit.user, 'goalkeeper');

  // What LoadCredential= does before each start: a private copy of the token the service's user can read.
  const loadCredential = (): void => {
    mkdirSync(join(root, CREDENTIALS), { recursive: true });
    copyFileSync(join(root, 'etc/goalkeeper/agent.token'), join(root, CREDENTIALS, 'agent.token'));
    sh('chown', ['-R', String(uid), join(root, CREDENTIALS)]);
  };
  const asService = (extra: string[]): ChildProcess => ns.spawn(['chroot', root, ...dropTo(unit.user, unit.caps), ...unit.argv, ...extra]);

  // ---- freshly installed: the shipped config has no token, so the agent stops with 2, not restarted ----
  loadCredential();
  const unconfigured = await collect(asService([]));
  t.equal(unconfigured.code, 2, 'exit 2 with the shipped config and the empty token');
  t.match(unconfigured.stderr, /AGENT_ERR_CONFIG_INVALID.*a token is needed/);
  t.match(ns.run(['cat', join(root, UNIT)]), /^RestartPreventExitStatus=2$/m, 'which the unit does not restart');

  // ---- replay to a collector, as the unit starts it ----
  const collector = await startCollector(dir);
  t.teardown(() => stop(collector.proc));
  writeFileSync(join(root, 'etc/goalkeeper/agent.json'), JSON.stringify({
    agent_id: 'gw1',
    collector: { url: collector.url },
    spool: { dir: '/var/lib/goalkeeper/spool' }, // as the shipped config: in the unit's StateDirectory
  }));
  writeFileSync(join(root, 'etc/goalkeeper/agent.token'), collector.agentToken);
  loadCredential();
  copyFileSync(CAPTURE, join(root, 'var/lib/goalkeeper/input.pcap'));

  const replay = await collect(asService(['--read', '/var/lib/goalkeeper/input.pcap']));
  t.equal(replay.code, 0, 'the installed agent replays the capture', { stderr: replay.stderr });
  t.match(replay.stderr, /"event":"collector_connected"/);

  const fromSources = startTs(['agent/main.ts', '--read', CAPTURE, '--jsonl', '-']);
  t.equal(await fromSources.exited, 0);
  const expected = fromSources.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { community_id: string });
  const db = new Database(collector.dbPath, { readonly: true });
  const stored = db.prepare('SELECT community_id FROM flows WHERE agent_id = ? ORDER BY community_id').all('gw1') as Array<{ community_id: string }>;
  db.close();
  t.ok(expected.length > 10, `the capture has flows (${expected.length})`);
  t.same(stored.map((r) => r.community_id), expected.map((r) => r.community_id).sort(), 'the collector stored exactly the flows the sources meter');

  // ---- live capture as goalkeeper with only CAP_NET_RAW + CAP_NET_ADMIN ----
  sh('ip', ['netns', 'add', NS_A]);
  sh('ip', ['netns', 'add', NS_B]);
  sh('ip', ['link', 'add', IF_A, 'netns', NS_A, 'type', 'veth', 'peer', 'name', IF_B, 'netns', NS_B]);
  for (const [n, ifc, addr] of [[NS_A, IF_A, ADDR_A], [NS_B, IF_B, ADDR_B]]) {
    sh('ip', ['-n', n, 'addr', 'add', `${addr}/24`, 'dev', ifc]);
    sh('ip', ['-n', n, 'link', 'set', ifc, 'up']);
  }
  const live = ns.spawn(['chroot', root, ...dropTo(unit.user, unit.caps), '/usr/bin/goalkeeper-agent', '-i', IF_A, '-f', 'icmp', '--jsonl', '-'], NS_A);
  const liveDone = collect(live);
  const started = Date.now();
  let capturing = '';
  live.stderr!.on('data', (d) => { capturing += d; });
  while (!capturing.includes('"event":"capturing"') && Date.now() - started < 10000 && live.exitCode === null) {
    await new Promise((r) => setTimeout(r, 50));
  }
  sh('ip', ['netns', 'exec', NS_B, 'ping', '-c', '3', '-i', '0.2', '-W', '2', ADDR_A]);
  live.kill('SIGTERM');
  const liveRun = await liveDone;
  t.equal(liveRun.code, 0, 'live capture stopped cleanly', { stderr: liveRun.stderr });
  const icmp = liveRun.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .find((f) => f.proto === 1 && f.src_ip === ADDR_B && f.dst_ip === ADDR_A);
  t.match(icmp, { fwd_packets: 3, bwd_packets: 3 }, 'the three pings and their replies were captured');

  const denied = await collect(ns.spawn(['chroot', root, ...dropTo(unit.user, []), '/usr/bin/goalkeeper-agent', '-i', IF_A, '--jsonl', '-'], NS_A));
  t.equal(denied.code, 3, 'without the capabilities live capture fails');
  t.match(denied.stderr, /AGENT_ERR_INTERFACE/);

  // ---- upgrade (the same .deb again): the operator's config and token stay ----
  const editedConfig = readFileSync(join(root, 'etc/goalkeeper/agent.json'), 'utf8');
  ns.run(['dpkg', `--root=${root}`, '--log=/dev/null', '--force-confold', '-i', deb]);
  t.equal(readFileSync(join(root, 'etc/goalkeeper/agent.json'), 'utf8'), editedConfig, 'upgrade keeps the edited conffile');
  t.equal(readFileSync(join(root, 'etc/goalkeeper/agent.token'), 'utf8'), collector.agentToken, 'and the token');
  t.equal(readFileSync(join(root, 'etc/passwd'), 'utf8'), passwd, 'and adds no user');

  // ---- purge: files, config, token and state go; the user stays ----
  ns.run(['dpkg', `--root=${root}`, '--log=/dev/null', '--purge', 'goalkeeper-agent']);
  t.notOk(existsSync(join(root, 'etc/goalkeeper')), '/etc/goalkeeper removed');
  t.notOk(existsSync(join(root, 'var/lib/goalkeeper')), '/var/lib/goalkeeper removed');
  t.equal(ns.run(['sh', '-c', `ls ${join(root, 'usr/lib/goalkeeper-agent')} 2>&1 || true`]).includes('No such file'), true, 'the executable removed');
  t.match(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^goalkeeper:/m, 'the system user stays');
});
