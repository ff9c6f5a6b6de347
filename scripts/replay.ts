// One-shot detection over capture files, no server: agent and collector in one process.
//
//   npm run -s replay -- [--config FILE] [--flows] FILE...
//
// Every alert is written to stdout as one JSON line (the collector's alert JSON: category, severity,
// attack_id, agent_id, src_ip, dst_ip, dst_port, first_ts, last_ts, score, threshold, evidence;
// `id` counts from 1 and `ts` is the alert's last_ts, so output is the same on every run).
// agent_id is the capture file's base name. --config takes a collector config file and uses its
// `detect` section (other sections are ignored; `auth` may be left out). --flows also prints every
// flow as {"flow":{...}} before the alerts it led to. Logs and a last summary line (files, frames,
// flows, alerts, invalid batches, detector failures) go to stderr. Exit 0, or 2 on bad usage or
// config, 1 when a file cannot be read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateConfig } from '../collector/config';
import { CollectorError } from '../collector/errors';
import { alertToJson } from '../collector/model';
import { createLogger } from '../collector/obs';
import { replayFiles } from './eval/replay-core';

const USAGE = 'usage: npm run -s replay -- [--config FILE] [--flows] FILE...';

async function main(argv: string[]): Promise<number> {
  const log = createLogger({ level: 'warn' });
  const files: string[] = [];
  let configFile: string | undefined;
  let printFlows = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') configFile = argv[++i];
    else if (a === '--flows') printFlows = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('--')) {
      process.stderr.write(`unknown option ${a}\n${USAGE}\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0 || (configFile === undefined && argv.includes('--config'))) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let raw: Record<string, unknown> = {};
  let baseDir = process.cwd();
  try {
    if (configFile !== undefined) {
      raw = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
      baseDir = path.dirname(path.resolve(configFile));
    }
    const cfg = validateConfig({ auth: { agents: [] }, ...raw }, baseDir);
    let id = 0;
    const out = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
    const stats = await replayFiles(files, {
      detect: cfg.detect,
      log,
      onAlert: (a) => out(alertToJson({ ...a, id: ++id, ts: a.last_ts })),
      onFlow: printFlows ? (f) => out({ flow: f }) : undefined,
    });
    process.stderr.write(`replay: files=${stats.files} frames=${stats.frames} flows=${stats.flows} alerts=${id} invalid_batches=${stats.invalidBatches} detector_failures=${stats.detectorFailures}\n`);
    return 0;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    log.error(msg, { code: (err as { code?: string }).code });
    return err instanceof CollectorError || err instanceof SyntaxError ? 2 : 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
