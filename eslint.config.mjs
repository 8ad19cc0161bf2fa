import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdktf.out/', '.build/', '.gen/', 'coverage/', 'out/', '.local/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Importing the AWS provider from its root loads all ~2,200 resource classes: synth takes
      // 9–17 s and up to 1.5 GB instead of about a second. Import each resource from its own file.
      'no-restricted-imports': ['error', {
        paths: [{ name: '@cdktf/provider-aws', message: 'Import each resource from @cdktf/provider-aws/lib/<resource> (a root import makes synth 10x slower).' }],
        patterns: [{ regex: '^@cdktf/provider-aws(/lib(/index(\\.js)?)?)?/?$', message: 'Import each resource from @cdktf/provider-aws/lib/<resource>.' }],
      }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests build malformed input on purpose.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
