// Evaluation over labeled captures: `npm run -s eval [-- --dir DIR] [--config FILE] [FILE...]`
// replays each capture of DIR (default ../shared/pcaps/labeled, next to the repository) through
// agent and collector and prints one Markdown table (scripts/eval/evaluate.ts says what each column
// means), then as the last line `attacks_alerted=a/b negatives_silent=c/d median_first_alert_s=…`.
// FILE... restricts the run to those manifest rows. --config takes the `detect` section of a
// collector config file. Exit 0 (even when a verdict is wrong: the table is the result), 2 on bad
// usage or config.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateConfig } from '../collector/config';
import { evaluateFolder, renderTable } from './eval/evaluate';

const DEFAULT_LABELED_DIR = path.resolve(__dirname, '..', '..', 'shared', 'pcaps', 'labeled');

async function main(argv: string[]): Promise<number> {
  let dir = DEFAULT_LABELED_DIR;
  let raw: Record<string, unknown> = {};
  let baseDir = process.cwd();
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir' && argv[i + 1]) dir = path.resolve(argv[++i]);
    else if (a === '--config' && argv[i + 1]) {
      const file = argv[++i];
      raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      baseDir = path.dirname(path.resolve(file));
    } else if (a.startsWith('--')) {
      process.stderr.write(`unknown option ${a}\nusage: npm run -s eval -- [--dir DIR] [--config FILE] [FILE...]\n`);
      return 2;
    } else only.push(a);
  }
  if (!fs.existsSync(path.join(dir, 'MANIFEST.tsv'))) {
    process.stderr.write(`no MANIFEST.tsv in ${dir} (give the labeled captures' folder with --dir)\n`);
    return 2;
  }
  const cfg = validateConfig({ auth: { agents: [] }, ...raw }, baseDir);
  const rows = await evaluateFolder(dir, cfg.detect, only.length ? only : undefined);
  process.stdout.write(`${renderTable(rows)}\n`);
  return 0;
}

void main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
