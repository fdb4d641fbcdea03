export {
  validateData,
  VALIDATION_DEFAULTS,
  type CheckResult,
  type CheckStatus,
  type ColumnFinding,
  type ValidationInput,
  type ValidationOptions,
  type ValidationReport,
} from './checks.js';
