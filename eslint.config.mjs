import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** no-restricted-imports patterns refusing relative imports of these folders of backend/src. */
function layers(...folders) {
  return folders.map((folder) => ({
    group: [`../**/${folder}`, `../**/${folder}/**`, `./${folder}/**`],
    message: `this part of backend/src may not import ${folder}/ (docs/development.md, "Who imports whom")`,
  }));
}

// plugin/ lints with Grafana's own config (plugin/eslint.config.mjs, `npm run lint -w plugin`).
export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/coverage/**',
      'plugin/**',
      'test/browser/out/**',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain JavaScript entry points run on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  // The import table of docs/development.md: which part of backend/src may import which. Patterns
  // match a folder at any depth of a relative path, so a file at a folder's root has no way around.
  {
    files: ['backend/src/io/**/*.ts'],
    ignores: ['backend/src/io/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: layers('service', 'cli', 'parallel', 'bench', 'demo', 'devtools') },
      ],
    },
  },
  // A test beside io code may start the real component it talks to (devtools: influxd, PostgreSQL).
  {
    files: ['backend/src/io/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: layers('service', 'cli', 'parallel', 'bench', 'demo') }],
    },
  },
  {
    files: ['backend/src/parallel/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: layers('service', 'cli', 'bench', 'demo', 'devtools') }],
    },
  },
  {
    files: ['backend/src/service/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layers('cli', 'bench', 'demo', 'devtools') }] },
  },
  {
    files: ['backend/src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layers('bench', 'demo', 'devtools') }] },
  },
  {
    // The engine is pure: no I/O, no clock, seeded randomness only; it imports nothing outside itself.
    files: ['backend/src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process'],
              message: 'The engine is pure: no I/O (docs/development.md).',
            },
            ...layers('io', 'service', 'cli', 'parallel', 'bench', 'demo', 'devtools'),
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the seeded PRNG (engine/forest/random.ts).' },
        { object: 'Date', property: 'now', message: 'The engine has no clock: take time as an argument.' },
      ],
    },
  },
  prettier,
);
