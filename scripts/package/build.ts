// `npm run package`: builds, offline, the agent as one executable for linux-x64 and a Debian package
// holding it. Nothing is downloaded: the executable is this machine's own `node` with the bundled
// agent injected as a Node single-executable application (SEA); the libpcap addon, which a SEA cannot
// embed, ships beside it. See docs/packaging.md.
//
//   out/package/goalkeeper-agent            the executable (also in the .deb)
//   out/package/pcap_binding.node           the libpcap addon it loads from its own folder
//   out/package/goalkeeper-agent_<version>_amd64.deb
//
//   npx tsx scripts/package/build.ts [--out DIR]
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const ROOT = resolve(__dirname, '..', '..');
const HERE = __dirname;
/** Where the package puts the executable and its addon; /usr/bin gets a symlink to it. */
const LIB_DIR = '/usr/lib/goalkeeper-agent';
const EXECUTABLE = 'goalkeeper-agent';
const ADDON = 'pcap_binding.node';
const ADDON_SOURCE = join(ROOT, 'node_modules', 'pcap', 'build', 'Release', ADDON);
/** Node's fixed marker for a SEA blob (node/src/node_sea.cc). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function log(message: string): void {
  process.stderr.write(`package: ${message}\n`);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
}

/** One CommonJS file with every dependency inside; the pcap addon is swapped for its loader. */
async function bundle(outFile: string, version: string): Promise<void> {
  await esbuild.build({
    entryPoints: [join(ROOT, 'agent', 'main.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    define: { GOALKEEPER_BUILD_VERSION: JSON.stringify(version) },
    plugins: [{
      name: 'pcap-addon-beside-executable',
      setup(build) {
        build.onResolve({ filter: /[\\/]pcap_binding$/ }, () => ({ path: join(HERE, 'pcap-binding-loader.js') }));
        // ws tries these optional native speed-ups in a try/catch: a module that throws makes it use
        // its own JavaScript, where leaving them external would make the SEA warn about require().
        build.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'absent' }));
        build.onLoad({ filter: /.*/, namespace: 'absent' }, (args) => ({
          contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the single executable`)});`,
          loader: 'js',
        }));
      },
    }],
    logLevel: 'warning',
  });
}

/** Copies the machine's node and injects the bundle into it. */
function singleExecutable(work: string, bundleFile: string, outFile: string): void {
  const blob = join(work, 'sea-prep.blob');
  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({
    main: bundleFile,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
  }));
  run(process.execPath, ['--experimental-sea-config', seaConfig]);
  copyFileSync(process.execPath, outFile);
  chmodSync(outFile, 0o755);
  // postject's CLI in a child process: its ELF parser prints a warning per note section of Debian's
  // node ("Can't find string offset for section name '.note.100'"), harmless, shown only on failure.
  run(process.execPath, [require.resolve('postject/dist/cli.js'), outFile, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
}

/** Bytes of the files below `dir`; sets every folder to 0755 on the way, whatever the umask made them. */
function treeBytes(dir: string): number {
  let total = 0;
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

function template(name: string, values: Record<string, string>): string {
  return readFileSync(join(HERE, name), 'utf8').replace(/@([A-Z_]+)@/g, (m, key: string) => {
    if (!(key in values)) throw new Error(`${name}: no value for ${m}`);
    return values[key];
  });
}

/** The file tree of the .deb, with DEBIAN/ control data, then dpkg-deb. */
function debianPackage(work: string, executable: string, addon: string, version: string, outFile: string): void {
  const root = join(work, 'deb-root');
  const put = (path: string, from: { file?: string; text?: string }, mode: number): void => {
    const dest = join(root, path);
    mkdirSync(dirname(dest), { recursive: true });
    if (from.file) copyFileSync(from.file, dest);
    else writeFileSync(dest, from.text ?? '');
    chmodSync(dest, mode);
  };
  put(`${LIB_DIR}/${EXECUTABLE}`, { file: executable }, 0o755);
  put(`${LIB_DIR}/${ADDON}`, { file: addon }, 0o644);
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  symlinkSync(relative('/usr/bin', `${LIB_DIR}/${EXECUTABLE}`), join(root, 'usr', 'bin', EXECUTABLE));
  put('/lib/systemd/system/goalkeeper-agent.service', { text: template('goalkeeper-agent.service', { BINDIR: '/usr/bin' }) }, 0o644);
  put('/etc/goalkeeper/agent.json', { file: join(HERE, 'agent.json') }, 0o644);
  put('/usr/share/doc/goalkeeper-agent/packaging.md', { file: join(ROOT, 'docs', 'packaging.md') }, 0o644);
  put('/usr/share/doc/goalkeeper-agent/agent.md', { file: join(ROOT, 'docs', 'agent.md') }, 0o644);
  put('/usr/share/doc/goalkeeper-agent/copyright', { text: copyright() }, 0o644);

  const installedKb = Math.ceil(treeBytes(root) / 1024);
  mkdirSync(join(root, 'DEBIAN'));
  chmodSync(join(root, 'DEBIAN'), 0o755);
  put('/DEBIAN/control', { text: template('deb/control', { VERSION: version, INSTALLED_SIZE_KB: String(installedKb) }) }, 0o644);
  put('/DEBIAN/conffiles', { file: join(HERE, 'deb', 'conffiles') }, 0o644);
  for (const script of ['postinst', 'prerm', 'postrm']) put(`/DEBIAN/${script}`, { file: join(HERE, 'deb', script) }, 0o755);
  // gzip -6, which every dpkg reads: here 34 MB in 6 s, where gzip -9 took 36 s for 0.2 MB less and
  // xz -1 22 s for 27 MB (zstd, 0.7 s, needs dpkg >= 1.21.18: Debian 12, not 11).
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', root, outFile]);
}

function copyright(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    'Upstream-Name: goalkeeper',
    '',
    'Files: *',
    `License: ${pkg.license}`,
    '',
    'Files: usr/lib/goalkeeper-agent/goalkeeper-agent',
    'Comment: contains the Node.js runtime (MIT and others, see https://github.com/nodejs/node/blob/main/LICENSE)',
    '  and the bundled npm dependencies (ws, protobufjs, lru-cache, pcap: MIT / BSD-3-Clause).',
    '',
  ].join('\n');
}

async function buildPackage(outDir: string): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const version: string = pkg.version;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`builds linux-x64 only, this is ${process.platform}-${process.arch}`);
  statSync(ADDON_SOURCE); // throws ENOENT naming the path when `npm ci` did not build pcap

  const work = join(outDir, 'work');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const started = Date.now();

  const bundleFile = join(work, 'agent.cjs');
  await bundle(bundleFile, version);
  log(`bundled ${relative(ROOT, bundleFile)} (${statSync(bundleFile).size} bytes)`);

  const executable = join(outDir, EXECUTABLE);
  singleExecutable(work, bundleFile, executable);
  const addon = join(outDir, ADDON);
  copyFileSync(ADDON_SOURCE, addon);
  // Without NODE_OPTIONS: a SEA honours it, and a caller's loaders (tsx, tap) are not the agent's.
  const reported = run(executable, ['--version'], { PATH: process.env.PATH }).trim();
  if (reported !== version) throw new Error(`${executable} --version printed "${reported}", expected ${version}`);
  log(`executable ${relative(ROOT, executable)} (${statSync(executable).size} bytes), version ${reported}`);

  const deb = join(outDir, `goalkeeper-agent_${version}_amd64.deb`);
  debianPackage(work, executable, addon, version, deb);
  rmSync(work, { recursive: true, force: true });
  log(`${relative(ROOT, deb)} (${statSync(deb).size} bytes) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  buildPackage(resolve(values.out ?? join(ROOT, 'out', 'package'))).catch((err) => {
    log(`failed: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
