// The peer flow meters from Debian, installed on demand, and run exactly as
// ../shared/research/perf-baseline.md ran them (one command line each, output into the work folder,
// a fresh output before every run because nfpcapd and argus append to what is there).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface Peer {
  readonly name: 'softflowd' | 'nfpcapd' | 'argus';
  readonly pkg: string;
  readonly binary: string;
  /** Clears the previous run's output, returns the command line. */
  prepare(pcap: string, workDir: string): string[];
}

export const PEERS: readonly Peer[] = [
  {
    // Flows go as NetFlow v9 to an unused loopback port (softflowd has no file output); -m 262144 keeps
    // every flow of the capture in the table, as our agent's default max_flows does (the "fair" row).
    name: 'softflowd', pkg: 'softflowd', binary: 'softflowd',
    prepare: (pcap) => ['softflowd', '-r', pcap, '-n', '127.0.0.1:9999', '-v', '9', '-m', '262144'],
  },
  {
    name: 'nfpcapd', pkg: 'nfdump', binary: 'nfpcapd',
    prepare: (pcap, workDir) => {
      const out = join(workDir, 'nfpcapd-out');
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      return ['nfpcapd', '-r', pcap, '-w', out];
    },
  },
  {
    // -X resets /etc/argus.conf (which names an output file and 5 s status records) to the defaults.
    name: 'argus', pkg: 'argus-server', binary: 'argus',
    prepare: (pcap, workDir) => {
      const out = join(workDir, 'out.argus');
      rmSync(out, { force: true });
      return ['argus', '-X', '-r', pcap, '-w', out];
    },
  },
];

/** Other Debian tools the benchmark uses: binary → package. */
export const TOOLS: Readonly<Record<string, string>> = { tcpreplay: 'tcpreplay', time: 'time' };

export function hasBinary(binary: string): boolean {
  const dirs = `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin:/bin`.split(':').filter(Boolean);
  return dirs.some((d) => {
    try {
      accessSync(join(d, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function packageVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * Installs the Debian packages of the binaries that are missing (apt-get, as root; one `apt-get update`
 * and a retry if the first install fails). Returns what is still missing afterwards, with the reason.
 */
export function ensureInstalled(binaries: Record<string, string>, log: (msg: string) => void, allowInstall: boolean): Record<string, string> {
  const missing = Object.entries(binaries).filter(([bin]) => !hasBinary(bin));
  if (missing.length === 0) return {};
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  const why: Record<string, string> = {};
  if (!allowInstall || (process.getuid && process.getuid() !== 0)) {
    for (const [bin, pkg] of missing) why[bin] = allowInstall ? `not installed (apt-get install ${pkg} needs root)` : `not installed (${pkg}; --no-install)`;
    return why;
  }
  log(`installing from Debian: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env, stdio: ['ignore', 'ignore', 'pipe'] }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
    install();
  }
  for (const [bin, pkg] of missing) if (!hasBinary(bin)) why[bin] = `apt-get install ${pkg} failed`;
  return why;
}
