import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'sdk/nodejs/bin/', '.argosync/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-exports': ['error', { restrictDefaultExports: { direct: true } }],
    },
  },
  {
    // STYLE §4: storage stays in runtime/store/, the only folder that speaks to a database driver or builds SQL.
    files: ['runtime/**/*.ts'],
    ignores: ['runtime/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['kysely', 'pg', 'mysql2', 'mysql2/promise', '@electric-sql/pglite'].map((name) => ({ name, message: 'database access belongs in runtime/store/ (STYLE §4)' })),
          patterns: [{ group: ['@electric-sql/pglite/*', 'pg-*', 'kysely/*'], message: 'database access belongs in runtime/store/ (STYLE §4)' }],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['runtime/server/ui/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['*.config.*', 'eslint.config.js', 'vitest.config.ts'],
    rules: { 'no-restricted-exports': 'off' },
  },
);
