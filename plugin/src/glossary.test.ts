import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GLOSSARY } from './glossary';

describe('the glossary', () => {
  it('says in the pages what docs/glossary.md says', () => {
    const doc = readFileSync(join(__dirname, '../../docs/glossary.md'), 'utf8');
    const missing = Object.entries(GLOSSARY)
      .map(([term, definition]) => `- **${term}**: ${definition}`)
      .filter((line) => !doc.includes(line));
    expect(missing).toEqual([]);
  });
});
