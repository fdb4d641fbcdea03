import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { repoPath } from '../support/repo.js';

/**
 * The docs link to each other's sections by anchor (`pipeline.md#the-streaming-detector`), and a
 * renamed heading silently breaks every link to it: GitHub and Grafana's plugin catalog then open
 * the page at its top. Every relative link in the README, the changelogs and docs/ must name a
 * file that exists and, when it has one, an anchor of a heading in that file.
 */
const DOCS = [
  'README.md',
  'CHANGELOG.md',
  'plugin/README.md',
  'plugin/CHANGELOG.md',
  ...readdirSync(repoPath('docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/**
 * GitHub's anchor for a heading: lower case, punctuation dropped (letters, digits, spaces, `-` and
 * `_` kept), each space a hyphen; a repeated heading gets -1, -2, … in order.
 */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Relative links outside code: `[text](target)`, the target without a scheme. */
function links(markdown: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  let fenced = false;
  markdown.split('\n').forEach((raw, i) => {
    if (raw.startsWith('```')) fenced = !fenced;
    if (fenced) return;
    const line = raw.replace(/`[^`]*`/g, '');
    for (const m of line.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      out.push({ line: i + 1, target });
    }
  });
  return out;
}

describe('links between the docs', () => {
  it.each(DOCS)('%s: every relative link names a file and heading that exist', (doc) => {
    const text = readFileSync(repoPath(doc), 'utf8');
    const broken: string[] = [];
    for (const { line, target } of links(text)) {
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? repoPath(doc) : join(dirname(repoPath(doc)), decodeURI(path));
      if (!existsSync(file)) {
        broken.push(`line ${line}: ${target} (no file ${relative(repoPath(), file)})`);
        continue;
      }
      if (anchor === undefined || !file.endsWith('.md')) continue;
      if (!anchors(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor)))
        broken.push(`line ${line}: ${target} (no heading with anchor #${anchor})`);
    }
    expect(broken).toEqual([]);
  });

  it('computes anchors as GitHub does', () => {
    const a = anchors(
      [
        '# From metrics to a detector: features, drift',
        '## The alert budget’s unit: per `effective` metric',
        '### Decision rules tried for issue 18’s front (incidents found against false episodes)',
        '## Notes',
        '## Notes',
        '```',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    expect([...a]).toEqual([
      'from-metrics-to-a-detector-features-drift',
      'the-alert-budgets-unit-per-effective-metric',
      'decision-rules-tried-for-issue-18s-front-incidents-found-against-false-episodes',
      'notes',
      'notes-1',
    ]);
  });
});
