export type { Detector, EmitAlert } from './detector';
export { DetectRunner } from './runner';
export { buildDetectors, type DetectorSet, type DetectorDeps } from './build';
export { PortScanDetector, isConnectionAttempt, type PortScanOptions } from './port-scan';
