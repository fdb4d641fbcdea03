export {
  averagePrecision,
  bestF1,
  eventRecall,
  pointMetrics,
  precisionRecallCurve,
  rocAuc,
  runsOf,
  type Confusion,
  type EventRecall,
  type LabelledEvent,
  type PointMetrics,
  type ThresholdPoint,
} from './metrics.js';
