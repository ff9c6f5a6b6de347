export * from './log';
export * from './metrics';
export * from './http';
export * from './version';
