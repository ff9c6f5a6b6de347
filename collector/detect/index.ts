export type { Detector, EmitAlert } from './detector';
export { DetectRunner } from './runner';
export { PortScanDetector, isConnectionAttempt, type PortScanOptions } from './port-scan';
