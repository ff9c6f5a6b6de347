// The benchmark capture: ../shared/bench/gen_campus_pcap.py (deterministic, seed 1) writes it into the
// work folder with its ground-truth CSV (one line per generated flow). A capture already there with the
// same packet count (--workdir reuse) is taken as it is.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from './harness';

export const GENERATOR = resolve(REPO_ROOT, '..', 'shared', 'bench', 'gen_campus_pcap.py');
/** The generator's frames average 725–765 bytes; with record headers a little more. */
const BYTES_PER_PACKET_ESTIMATE = 800;

export interface Capture {
  file: string;
  packets: number;
  bytes: number;
  /** Flows in the ground truth (CSV lines − 1). */
  truthFlows: number;
  /** Seconds the generator took (0 when reused). */
  generatedS: number;
}

function truthCount(csv: string): number {
  const text = readFileSync(csv, 'utf8');
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  if (text.length > 0 && !text.endsWith('\n')) lines++;
  return lines - 1;
}

export async function makeCapture(dir: string, name: string, packets: number, log: (msg: string) => void): Promise<Capture> {
  const file = join(dir, `${name}.pcap`);
  const truth = join(dir, `${name}.truth.csv`);
  const done = join(dir, `${name}.done`);
  if (existsSync(done) && existsSync(file) && existsSync(truth)) {
    return { file, packets, bytes: statSync(file).size, truthFlows: truthCount(truth), generatedS: 0 };
  }
  if (!existsSync(GENERATOR)) throw new Error(`capture generator not found: ${GENERATOR}`);
  const need = packets * BYTES_PER_PACKET_ESTIMATE;
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  if (free < need * 1.1) {
    throw new Error(`${dir} has ${(free / 1e9).toFixed(1)} GB free; a ${packets}-packet capture needs about ${(need / 1e9).toFixed(1)} GB (use --packets or --workdir)`);
  }
  log(`generating ${name}.pcap: ${packets} packets (about ${(need / 1e9).toFixed(1)} GB)`);
  const t0 = Date.now();
  const child = spawn('python3', [GENERATOR, '--packets', String(packets), '--seed', '1', '-o', file, '--truth', truth], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err = (err + d).slice(-4000); });
  const code = await new Promise<number>((r) => child.once('close', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`gen_campus_pcap.py exited with ${code}: ${err}`);
  writeFileSync(done, '');
  return { file, packets, bytes: statSync(file).size, truthFlows: truthCount(truth), generatedS: (Date.now() - t0) / 1000 };
}
