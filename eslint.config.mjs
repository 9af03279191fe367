// ESLint flat config (npm run lint): @eslint/js and typescript-eslint recommended
// rules for the TypeScript (src, test, bench, web/main.ts) and the .mjs scripts,
// then eslint-config-prettier, so that layout is Prettier's alone.
// Type-aware rules are left out: they triple the lint time on a 2-core machine,
// and tsc --strict already checks the types.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'runs/', 'models/', '.cache/', 'fmrlrec-state/', 'bench/results/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `const { dropped: _dropped, ...kept } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    // Tests walk parsed JSON (OpenAPI documents, response bodies) whose shape is what they check.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The .mjs scripts run on Node (TypeScript files are checked for undefined names by tsc).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  prettier,
);
