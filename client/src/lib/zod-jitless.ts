import { z } from 'zod';

// Imported first by main.tsx, before any module builds a schema. zod 4 compiles object parsers with
// `new Function` unless told not to, and each object schema probes whether it may as it is built;
// under the page's Content-Security-Policy (no 'unsafe-eval', server/src/http/pageHeaders.ts) that
// probe is refused, and Chromium reports it as a CSP violation and a console error even though zod
// catches it. Jitless, zod parses with its interpreter and never probes. The build keeps this module in
// zod's own chunk (client/vite.config.ts), which every chunk that builds a schema runs first.
z.config({ jitless: true });
