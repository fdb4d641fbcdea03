// Shared jest settings for the TypeScript ESM code of the backend and the cross-component tests.
// Sources are ESM with `.js` import suffixes (nodenext); swc compiles them to CommonJS for jest,
// including the ESM-only packages we depend on (typebox, fast-check).
const { esmPackages, esmOnlyPackages } = require('./jest.esm-packages.cjs');

const transformed = [...esmPackages, ...esmOnlyPackages];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [`node_modules/(?!(${transformed.join('|')})/)`],
  resolver: require.resolve('./jest.resolver.cjs'),
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};
