// `node scripts/run-pnpm.mjs ARGS…` = the pinned pnpm with ARGS, after making sure the workspace is installed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installWorkspace, root, runPnpm } from './pnpm.mjs';

if (!existsSync(join(root, 'node_modules', '.modules.yaml'))) await installWorkspace();
process.exit(await runPnpm(process.argv.slice(2)));
