/**
 * The page is written against React's API and rendered by Preact's compatibility layer
 * (`preact/compat`): react-dom, react and its scheduler were 67.5 kB of a phone's 155 kB first load
 * (gzipped), Preact with its compat layer is about a sixth of that (docs/benchmarks.md, "A phone's
 * first load"). The build (vite.config.ts) and the component tests (vitest.config.ts) use the same
 * aliases, so that the renderer the tests run is the one that ships.
 *
 * Exact matches (`find` as a RegExp anchored at both ends), so that `react-dom/client` does not
 * become `preact/compat/client` + a suffix by prefix matching.
 */
export const PREACT_ALIASES = [
  { find: /^react$/, replacement: 'preact/compat' },
  { find: /^react-dom$/, replacement: 'preact/compat' },
  { find: /^react-dom\/client$/, replacement: 'preact/compat/client' },
  { find: /^react-dom\/test-utils$/, replacement: 'preact/test-utils' },
  { find: /^react\/jsx-runtime$/, replacement: 'preact/jsx-runtime' },
  { find: /^react\/jsx-dev-runtime$/, replacement: 'preact/jsx-dev-runtime' },
];
