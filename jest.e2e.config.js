/** End-to-end tests in a real browser (npm run test:e2e): the web app against the real service. */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.e2e.ts'],
  testTimeout: 90000,
  maxWorkers: 1,
};
