export { massVolumeArea, type MassVolumeOptions } from './mass-volume.js';
export {
  DEFAULT_GRID,
  robustness,
  trainPipeline,
  type Grid,
  type GridRow,
  type ModelBundle,
  type RobustnessRow,
  type TestMetrics,
  type TrainInput,
  type TrainOptions,
} from './train.js';
