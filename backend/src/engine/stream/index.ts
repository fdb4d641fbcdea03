export {
  defaultStreamFeatures,
  StreamingDetector,
  type MetricForests,
  type StreamOptions,
  type StreamResult,
  type StreamSnapshot,
} from './detector.js';
export { severityOf, type Severity } from './calibration.js';
export type { RowExplanation } from './explain-row.js';
