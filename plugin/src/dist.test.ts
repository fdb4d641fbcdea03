import fs from 'fs';
import path from 'path';
import { AppPlugin, DataSourcePlugin, PanelPlugin } from '@grafana/data';

const dist = path.join(__dirname, '..', 'dist');

/** What Grafana's loader provides to plugin modules: the shared packages, by their AMD names. */
const SHARED: Record<string, () => unknown> = {
  '@emotion/css': () => require('@emotion/css'),
  '@grafana/data': () => require('@grafana/data'),
  '@grafana/runtime': () => require('@grafana/runtime'),
  '@grafana/ui': () => require('@grafana/ui'),
  react: () => require('react'),
  'react-dom': () => require('react-dom'),
  'react-router': () => require('react-router'),
  rxjs: () => require('rxjs'),
};

/**
 * Evaluates a built module the way Grafana's SystemJS/AMD loader does: `define(deps, factory)`
 * with the externals supplied and `module.uri` pointing where Grafana serves the plugin.
 */
function load(file: string): { plugin?: unknown } {
  const code = fs.readFileSync(path.join(dist, file), 'utf8');
  let exported: { plugin?: unknown } | undefined;
  const define = (deps: string[], factory: (...args: unknown[]) => { plugin?: unknown }) => {
    const args = deps.map((d) => {
      if (d === 'module') {
        return { uri: `/public/plugins/isoscope-anomaly-app/${file}` };
      }
      const provide = SHARED[d];
      if (!provide) {
        throw new Error(`${file} needs '${d}', which Grafana does not provide to plugins`);
      }
      return provide();
    });
    exported = factory(...args);
  };
  new Function('define', code)(define);
  if (!exported) {
    throw new Error(`${file} did not call define()`);
  }
  return exported;
}

describe('the built modules (npm run build -w plugin)', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(dist, 'module.js'))) {
      throw new Error('plugin/dist is missing: run `npm run build -w plugin` first (npm test does)');
    }
  });

  it.each([
    ['module.js', AppPlugin],
    ['datasource/module.js', DataSourcePlugin],
    ['panel/module.js', PanelPlugin],
  ] as const)('%s loads with only the shared externals and exports its plugin', (file, type) => {
    const { plugin } = load(file);
    expect(plugin).toBeInstanceOf(type);
  });

  it('ships each plugin.json and logo beside its module', () => {
    for (const dir of ['', 'datasource', 'panel']) {
      const json = JSON.parse(fs.readFileSync(path.join(dist, dir, 'plugin.json'), 'utf8'));
      expect(json.info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(fs.existsSync(path.join(dist, dir, json.info.logos.small))).toBe(true);
    }
  });
});
