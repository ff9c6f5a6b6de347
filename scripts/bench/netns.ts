// Two network namespaces joined by a veth pair, made and removed by the benchmark (root only), as
// test/integration/live-capture.test.ts does. No addresses are configured and IPv6 is off, so the only
// frames on the link are the ones replayed into it; nothing can leave the namespaces.
import { execFileSync } from 'node:child_process';

export interface VethPair {
  /** Capture side (the agent). */
  readonly nsA: string;
  readonly ifA: string;
  /** Sending side (tcpreplay). */
  readonly nsB: string;
  readonly ifB: string;
  destroy(): void;
}

function sh(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createVethPair(): VethPair {
  const id = `${process.pid % 100000}`;
  const nsA = `gkbencha${id}`;
  const nsB = `gkbenchb${id}`;
  const ifA = `gkba${id}`;
  const ifB = `gkbb${id}`;
  const remove = (): void => {
    for (const ns of [nsA, nsB]) {
      try { sh(['ip', 'netns', 'del', ns]); } catch { /* not there */ }
    }
  };
  // Also on an interrupted run (the orchestrator exits on SIGINT).
  const destroy = (): void => {
    process.removeListener('exit', remove);
    remove();
  };
  remove();
  process.once('exit', remove);
  try {
    sh(['ip', 'netns', 'add', nsA]);
    sh(['ip', 'netns', 'add', nsB]);
    sh(['ip', 'link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    for (const [ns, ifc] of [[nsA, ifA], [nsB, ifB]]) {
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
      // The capture has 802.1Q-tagged full-size frames: a jumbo MTU lets every one of them through.
      sh(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', ifc, 'mtu', '9000', 'up']);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { nsA, ifA, nsB, ifB, destroy };
}
