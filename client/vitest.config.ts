import { defineProject } from 'vitest/config';
import { PREACT_ALIASES } from './preact-aliases.ts';

export default defineProject({
  // The renderer that ships (vite.config.ts): components are tested on Preact's compat layer.
  resolve: { alias: PREACT_ALIASES },
  test: {
    name: 'client',
    // Bundled by Vite, not loaded by Node, so that their own `import 'react'` meets the aliases too.
    server: { deps: { inline: ['zustand'] } },
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    // Stylesheets are read, not ignored: a test checks what the stylesheet promises (no easing).
    css: true,
  },
});
