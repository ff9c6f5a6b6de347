// Command-line flags → config overrides. Every flag maps onto one config option.
import { parseArgs } from 'node:util';
import { AgentError, AgentErrorCode } from './errors';

export const USAGE = `Usage: goalkeeper-agent [options]

Capture packets, meter them into bidirectional flows and stream the flows to a collector
and/or write them as JSON lines.

Source (one of):
  -i, --interface NAME     capture live on this interface (needs root or CAP_NET_RAW)
  -r, --read FILE          read a pcap or pcapng file ('-' = stdin, e.g. from tcpdump -w -)
  -f, --filter BPF         BPF capture filter, e.g. "tcp or udp"
      --snaplen BYTES      bytes captured per packet (default 262144)
      --no-promisc         do not put the interface in promiscuous mode
      --replay-pps N       pace a file replay at N packets/s (default: as fast as possible)
      --progress           draw a progress bar for --read on stderr even when it is not a terminal
                           (on a terminal it is drawn anyway, unless flows print there too)

Destination (one or both):
  -c, --collector URL      collector WebSocket URL, e.g. ws://127.0.0.1:7470
      --token TOKEN        agent token issued by the collector operator
      --token-file FILE    read the token from FILE (keeps it out of the process list)
      --agent-id ID        this agent's id, as registered on the collector
      --credential-file FILE    the agent's own credential (from enrolment; mode 0600)
      --enrol-token-file FILE   one-time enrolment token: used once, when --credential-file does not exist
      --ca-file FILE       CA bundle the collector's certificate must chain to (wss://)
      --pin-sha256 PIN     sha256 of the collector's public key (SPKI) or certificate (wss://)
      --spool DIR          keep unacknowledged batches in DIR across restarts (default: a temporary dir)
      --jsonl FILE         write one JSON object per flow record to FILE ('-' = stdout)
      --csv FILE           write CICFlowMeter-compatible CSV to FILE ('-' = stdout)

Flows:
      --idle-timeout SECS     end a flow after SECS without packets, every protocol
                              (defaults: TCP 300, TCP unanswered 20, UDP/other 120, ICMP 30)
      --active-timeout SECS   export an interim record of a flow open longer than SECS (default 300)
      --max-flows N           flow table size; the least recently seen flow is exported when full
      --features SET          full (default: every statistic) or compact (NetFlow-sized records,
                              for millions of concurrent flows)

Other:
      --config FILE        JSON config file (flags override it); see docs/agent.md
  -h, --help               show this help
  -v, --version            print the version

Exit status: 0 done (file read and every flow delivered, or stopped by SIGTERM/SIGINT);
2 bad usage or configuration; 3 capture or delivery failed; 70 internal error (a bug).`;

export interface CliRequest {
  help: boolean;
  version: boolean;
  /** Draw the file-reading progress bar even when stderr is not a terminal. */
  progress: boolean;
  configPath: string;
  overrides: Record<string, Record<string, unknown> | unknown>;
}

function num(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new AgentError(AgentErrorCode.CONFIG_INVALID, `--${flag} needs a number, got "${value}"`);
  }
  return n;
}

function section(entries: Record<string, unknown>): Record<string, unknown> | undefined {
  const defined = Object.entries(entries).filter(([, v]) => v !== undefined);
  return defined.length ? Object.fromEntries(defined) : undefined;
}

export function parseCli(argv: string[]): CliRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        interface: { type: 'string', short: 'i' },
        read: { type: 'string', short: 'r' },
        filter: { type: 'string', short: 'f' },
        snaplen: { type: 'string' },
        'no-promisc': { type: 'boolean' },
        'replay-pps': { type: 'string' },
        progress: { type: 'boolean' },
        collector: { type: 'string', short: 'c' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'agent-id': { type: 'string' },
        'credential-file': { type: 'string' },
        'enrol-token-file': { type: 'string' },
        'ca-file': { type: 'string' },
        'pin-sha256': { type: 'string' },
        spool: { type: 'string' },
        jsonl: { type: 'string' },
        csv: { type: 'string' },
        'idle-timeout': { type: 'string' },
        'active-timeout': { type: 'string' },
        'max-flows': { type: 'string' },
        features: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new AgentError(AgentErrorCode.CONFIG_INVALID, `${(err as Error).message} (see --help)`);
  }
  const v = parsed.values;
  const overrides: Record<string, unknown> = {};
  if (v['agent-id'] !== undefined) overrides.agent_id = v['agent-id'];
  const sections: Record<string, Record<string, unknown> | undefined> = {
    source: section({
      interface: v.interface,
      file: v.read,
      bpf_filter: v.filter,
      snaplen_bytes: num('snaplen', v.snaplen),
      promiscuous: v['no-promisc'] ? false : undefined,
      replay_pps: num('replay-pps', v['replay-pps']),
    }),
    flow: section({
      idle_timeout_secs: num('idle-timeout', v['idle-timeout']),
      tcp_idle_timeout_secs: num('idle-timeout', v['idle-timeout']),
      tcp_half_open_timeout_secs: num('idle-timeout', v['idle-timeout']),
      icmp_idle_timeout_secs: num('idle-timeout', v['idle-timeout']),
      active_timeout_secs: num('active-timeout', v['active-timeout']),
      max_flows: num('max-flows', v['max-flows']),
      features: v.features,
    }),
    collector: section({
      url: v.collector, token: v.token, token_file: v['token-file'],
      credential_file: v['credential-file'], enrol_token_file: v['enrol-token-file'],
      tls: section({ ca_file: v['ca-file'], pin_sha256: v['pin-sha256'] }),
    }),
    spool: section({ dir: v.spool }),
    output: section({ jsonl: v.jsonl, csv: v.csv }),
  };
  for (const [name, value] of Object.entries(sections)) if (value) overrides[name] = value;
  return {
    help: v.help === true,
    version: v.version === true,
    progress: v.progress === true,
    configPath: v.config ?? '',
    overrides,
  };
}
