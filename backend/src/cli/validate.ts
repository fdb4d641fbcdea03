import type { CliCommand } from './context.js';
import { UsageError } from './context.js';

// PLACEHOLDER: registered early so that helpers do not collide on commands.ts; replaced by the real command.
export const command: CliCommand = {
  usage: 'isoscope validate',
  async run() {
    throw new UsageError('this command is not available yet');
  },
};
