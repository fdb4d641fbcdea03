import { parseArgs } from 'node:util';
import { validateData, type CheckStatus, type ValidationInput } from '../engine/index.js';
import { readMetricsCsv, type MetricsTable } from '../io/csv/index.js';
import type { CliCommand } from './context.js';
import { columnFlags, columnUsage, ENTITY_COLUMN_OPTIONS, requiredFlag, warnTimes } from './options.js';

const usage = `Usage: isoscope validate --input data.csv [--reference ref.csv] [--json]

Checks a window of data before it trains or feeds a model: schema (columns present and numeric),
ranges, missing values, duplicate timestamps and rows, outliers, and statistics (means, spreads,
medians against the reference; constant columns). Each check says pass, warn or fail, with its
numbers and what to do. Exit code 1 when a check fails, 2 when a file cannot be read.

Options:
  --input FILE            the data to check
  --reference FILE        training data to compare with (columns, ranges, statistics)
  --label-column NAME     a 0/1 column that is not a metric
${columnUsage(['a text column such as host: not a metric; times are judged within each value'])}
  --json                  print the report as JSON

Times that repeat or step back are kept in file order, each named on stderr (the duplicates check
counts the repeated ones). With --entity-column, times are judged within each entity on stderr, and
the duplicates check looks at repeated rows only (several hosts share every minute).
`;

function toInput(t: MetricsTable): ValidationInput {
  const { rows, cols, data } = t.matrix;
  const values = Array.from({ length: cols }, (_, c) =>
    Float64Array.from({ length: rows }, (_, r) => data[r * cols + c]!),
  );
  return {
    columns: t.featureNames,
    values,
    ...(t.nonNumeric ? { nonNumeric: t.nonNumeric } : {}),
    // With entities every time appears once per entity: the per-entity warnings stand in for the check.
    ...(t.timeMs && !t.entities ? { timeMs: t.timeMs } : {}),
  };
}

const MARK: Record<CheckStatus, string> = { pass: '✓ pass', warn: '! warn', fail: '✗ fail' };

export const command: CliCommand = {
  usage,
  async run({ argv, stdout, stderr }) {
    const { values } = parseArgs({
      args: argv,
      options: {
        input: { type: 'string' },
        reference: { type: 'string' },
        ...ENTITY_COLUMN_OPTIONS,
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    const input = requiredFlag(values, 'input');
    const read = async (file: string): Promise<MetricsTable> => {
      const table = await readMetricsCsv(file, {
        lenient: true,
        ...columnFlags(values, true, true),
      });
      warnTimes(stderr, 'validate', table);
      return table;
    };
    const data = toInput(await read(input));
    const reference = values.reference !== undefined ? toInput(await read(values.reference)) : undefined;
    const report = validateData(data, reference);
    if (values.json) {
      stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const out = [
        `${input}: ${report.rows} rows, ${data.columns.length} columns${values.reference ? `, against ${values.reference}` : ''}`,
        '',
      ];
      for (const check of report.checks) {
        out.push(`${MARK[check.status]}  ${check.check.padEnd(10)} ${check.message}`);
      }
      out.push('', `overall: ${report.status}`);
      stdout.write(`${out.join('\n')}\n`);
    }
    return report.status === 'fail' ? 1 : 0;
  },
};
