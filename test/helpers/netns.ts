// Shell helpers for tests that build network namespaces (as root).
import { execFileSync } from 'node:child_process';

export function sh(...args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function inNs(ns: string, ...args: string[]): string {
  return sh('ip', 'netns', 'exec', ns, ...args);
}
