import type { CliCommand } from './context.js';
import { UsageError } from './context.js';

export const command: CliCommand = {
  usage: 'isoscope score --train train.csv --input in.csv --output out.csv',
  async run() {
    throw new UsageError('not built yet');
  },
};
