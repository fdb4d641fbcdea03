export { CsvError } from './errors.js';
export { parseTimestamp } from './timestamp.js';
export { tokenizeCsv } from './tokenize.js';
export {
  alignFeatures,
  describeTimeIssues,
  parseMetricsCsv,
  readCsvHeader,
  readMetricsCsv,
  TIMESTAMP_COLUMNS,
  type CsvReadOptions,
  type MetricsTable,
  type TimeIssue,
} from './read.js';
export { csvField, writeCsvAtomic } from './write.js';
