// One jest run for the whole workspace: unit specs next to the code, e2e specs against a listening app.
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@notify-gateway/contracts$': '<rootDir>/packages/contracts/src/index.ts',
    '^@notify-gateway/client$': '<rootDir>/packages/client/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  rootDir: __dirname,
};

module.exports = {
  globalSetup: '<rootDir>/apps/backend/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/apps/backend/test/support/global-teardown.ts',
  testTimeout: 30000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,packages}/*/src/**/*.spec.ts'] },
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/apps/backend/test/**/*.e2e-spec.ts'] },
  ],
};
