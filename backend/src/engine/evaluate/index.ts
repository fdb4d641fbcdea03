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
export { alertCount, firingPoints, thresholdForAlertBudget, type AlertRule } from './alert-budget.js';
