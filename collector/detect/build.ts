// Builds the configured detectors from the `detect` config section (each one off/on and tuned
// there). The one place that knows every detector; main.ts and scripts/replay.ts both call it.
import type { DetectConfig } from '../config';
import type { Logger, Registry } from '../obs';
import { AnomalyDetector } from './anomaly';
import { BeaconingDetector } from './beaconing';
import { BruteForceDetector } from './brute-force';
import type { Detector } from './detector';
import { DnsTunnelDetector } from './dns-tunnel';
import { ExfiltrationDetector } from './exfiltration';
import { HostScanDetector } from './host-scan';
import { icmpFloodDetector } from './icmp-flood';
import { IntelLoader } from './intel/loader';
import { PortScanDetector } from './port-scan';
import { PrefixSet } from './prefix-set';
import { SlowDosDetector } from './slow-dos';
import { synFloodDetector } from './syn-flood';
import { ThreatIntelDetector } from './threat-intel';
import { TrwDetector } from './trw';
import { udpFloodDetector } from './udp-flood';

export interface DetectorDeps {
  log: Logger;
  metrics: Registry;
}

export interface DetectorSet {
  readonly detectors: Detector[];
  /** Re-reads every threat-intel source now (SIGHUP). Resolves when every source was tried. */
  reloadIntel(): Promise<void>;
  /** Stops timers (threat-intel polling). */
  close(): void;
}

/** Builds the enabled detectors; resolves once the threat-intel sources were loaded a first time. */
export async function buildDetectors(cfg: DetectConfig, deps: DetectorDeps): Promise<DetectorSet> {
  const detectors: Detector[] = [];
  if (cfg.port_scan.enabled) detectors.push(new PortScanDetector(cfg.port_scan));
  if (cfg.host_scan.enabled) detectors.push(new HostScanDetector(cfg.host_scan));
  if (cfg.trw.enabled) detectors.push(new TrwDetector(cfg.trw));
  if (cfg.syn_flood.enabled) detectors.push(synFloodDetector(cfg.syn_flood));
  if (cfg.udp_flood.enabled) detectors.push(udpFloodDetector(cfg.udp_flood));
  if (cfg.icmp_flood.enabled) detectors.push(icmpFloodDetector(cfg.icmp_flood));
  if (cfg.brute_force.enabled) detectors.push(new BruteForceDetector(cfg.brute_force));
  if (cfg.slow_dos.enabled) detectors.push(new SlowDosDetector(cfg.slow_dos));
  if (cfg.beaconing.enabled) detectors.push(new BeaconingDetector(cfg.beaconing));
  if (cfg.exfiltration.enabled) detectors.push(new ExfiltrationDetector(cfg.exfiltration, new PrefixSet(cfg.local_networks)));
  if (cfg.dns_tunnel.enabled) detectors.push(new DnsTunnelDetector(cfg.dns_tunnel));
  let intel: IntelLoader | undefined;
  if (cfg.threat_intel.enabled && cfg.threat_intel.sources.length > 0) {
    const loader = new IntelLoader(cfg.threat_intel, deps.metrics, deps.log.child({ detector: 'threat_intel' }));
    await loader.reload();
    loader.start();
    detectors.push(new ThreatIntelDetector(cfg.threat_intel, () => loader.indicators));
    intel = loader;
  }
  if (cfg.anomaly.enabled) detectors.push(new AnomalyDetector(cfg.anomaly));
  return {
    detectors,
    reloadIntel: () => intel?.reload() ?? Promise.resolve(),
    close: () => intel?.stop(),
  };
}
