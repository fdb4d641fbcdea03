// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const scaffold = require('./.config/jest.config');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...scaffold,
  displayName: 'plugin',
  rootDir: __dirname,
  transform: {
    ...scaffold.transform,
    // Some of @grafana/ui's dependencies ship `.mjs` only.
    '^.+\\.mjs$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' } }, module: { type: 'commonjs' } }],
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'jsx', 'mjs', 'cjs', 'json'],
};
