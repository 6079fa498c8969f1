// Lint for the bugs a type checker does not catch: dropped promises in socket handlers are
// silently lost notifications.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/generated/**', 'bench/results/**', 'node_modules/**', '**/*.js', '!bench/**/*.js', '**/*.cjs', '**/*.mjs'] },
  {
    files: ['apps/backend/src/**/*.ts', 'apps/backend/test/**/*.ts', 'packages/*/src/**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: {
      parserOptions: { project: ['./apps/backend/tsconfig.spec.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/await-thenable': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  {
    // The bench is plain CommonJS, type-checked through its JSDoc (bench/tsconfig.json): the same async rules.
    files: ['bench/**/*.js'],
    extends: [tseslint.configs.base],
    languageOptions: {
      sourceType: 'commonjs',
      parserOptions: { project: ['./bench/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['apps/backend/test/**/*.ts', '**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
);
