export { AuditLog, entryHash, GENESIS_HASH } from './chain';
export { verifyChain, type VerifyCheckpoint, type VerifyResult } from './verify';
export { canonicalJson } from './canonical';
