// `node scripts/run-pnpm.mjs ARGS…` = the pinned pnpm with ARGS, after making sure the workspace is installed
// as the lockfile says (scripts/pnpm.mjs, ensureWorkspace), on a tested Node.
import './node-version.mjs';
import { ensureWorkspace, runPnpm } from './pnpm.mjs';

// `pnpm install` itself needs no install first; `add`/`remove`/`update` change the lockfile it would check.
const args = process.argv.slice(2);
if (!args.some((arg) => ['install', 'add', 'remove', 'update'].includes(arg))) {
  await ensureWorkspace({ quiet: true });
}
process.exit(await runPnpm(args));
