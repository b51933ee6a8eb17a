import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { PREACT_ALIASES } from './preact-aliases.ts';

/** The server in development (`server/`, PORT 3000); the page talks to it through this proxy. */
const SERVER = 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  // The page renders with Preact through its React-compatible layer (preact-aliases.ts): a phone's
  // first load under 100 kB gzipped (issue 16; docs/benchmarks.md, "A phone's first load").
  // LAB_RENDERER=react builds the same page on React itself, for the benchmark's comparison.
  resolve: { alias: process.env.LAB_RENDERER === 'react' ? [] : PREACT_ALIASES },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The manifest (dist/.vite/manifest.json, not served: express.static ignores dot folders) lists each
    // chunk's static and dynamic imports: scripts/bundle-budget.mjs reads the audience's first load from it.
    manifest: true,
    rolldownOptions: {
      output: {
        codeSplitting: {
          // zod and the module that makes it jitless (src/lib/zod-jitless.ts) in one chunk, the config
          // last: every chunk that builds a schema imports this one, so zod is jitless before the first
          // schema exists. Split otherwise, the chunk of shared schemas (imported by the entry and by the
          // lazy views) ran before the entry's own modules, and each object schema's eval probe broke
          // the page's CSP (e2e/csp.spec.ts).
          groups: [
            { name: 'zod', test: /[\\/]node_modules[\\/]zod[\\/]|[\\/]src[\\/]lib[\\/]zod-jitless\.ts$/ },
          ],
        },
      },
    },
  },
  server: {
    // Through the proxy, x-request-bytes counts the proxy's request, not the browser's: measure wire
    // cost against the built page served by the server itself.
    // xfwd: the proxy says whom it forwards for (X-Forwarded-For), so that the server tells a phone
    // on the network from this machine: through the proxy every request comes from loopback, and
    // loopback alone would make everyone the operator (docs/security.md).
    proxy: {
      '/api': { target: SERVER, xfwd: true },
      '/socket.io': { target: SERVER, ws: true, xfwd: true },
    },
  },
});
