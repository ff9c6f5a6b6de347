export { Dashboard, type DashboardOptions } from './dashboard';
export type { DetectorInfo } from './api';
export { detectorState } from './api';
