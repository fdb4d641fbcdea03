// One jest run for the whole repository: each workspace is a project, so `npm test`
// ends with a single summary.
const fs = require('node:fs');
const path = require('node:path');

const projects = ['<rootDir>/backend/jest.config.cjs', '<rootDir>/test/jest.config.cjs'];
if (fs.existsSync(path.join(__dirname, 'plugin', 'jest.config.js')))
  projects.push('<rootDir>/plugin/jest.config.js');

// testTimeout is a global option in jest 30 (ignored inside a project): tests that start influxd need it.
// forceExit: with the pg-boss worker test (test/service/scale-workers.test.ts) in a jest worker beside
// other suites, jest's main process keeps a pipe open after every suite has passed and never exits
// (not reproduced in band, where --detectOpenHandles finds nothing); CI must not hang on it.
module.exports = { projects, testTimeout: 120000, forceExit: true };
