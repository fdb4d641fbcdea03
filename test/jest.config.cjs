module.exports = {
  ...require('../jest.preset.cjs'),
  displayName: 'integration',
  rootDir: __dirname,
  testMatch: ['<rootDir>/**/*.test.ts'],
  testTimeout: 120000,
};
