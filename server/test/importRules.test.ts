import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from './harness.ts';

/**
 * The layers' nevers are lint rules (biome.json `overrides`, `noRestrictedImports`), so `npm test`'s
 * lint stage fails on an import that breaks one. This proves they bite: each case is a one-import
 * file written into a temporary copy of the repository's layout, linted with the repository's own
 * biome.json by the installed Biome; the allowed imports beside them must pass, so that the rules
 * are not simply refusing everything.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const biome = join(
  dirname(createRequire(import.meta.url).resolve('@biomejs/biome/package.json')),
  'bin',
  'biome',
);

interface Case {
  file: string;
  from: string;
  refused: boolean;
}

const cases: Case[] = [
  // shared imports neither side.
  { file: 'shared/src/protocol/case.ts', from: '@transport-lab/server', refused: true },
  { file: 'shared/src/protocol/case.ts', from: '../../../server/src/config.ts', refused: true },
  { file: 'shared/src/metrics/case.ts', from: '../../../client/src/store/index.ts', refused: true },
  { file: 'shared/src/metrics/case.ts', from: '../protocol/lanes.ts', refused: false },
  // The engine imports no lane, webhooks, network, rooms.
  { file: 'server/src/tasks/case.ts', from: '../transports/sse/index.ts', refused: true },
  { file: 'server/src/tasks/case.ts', from: '../transports/lane.ts', refused: true },
  { file: 'server/src/tasks/case.ts', from: '../webhooks/index.ts', refused: true },
  { file: 'server/src/tasks/case.ts', from: '../network/index.ts', refused: true },
  { file: 'server/src/tasks/case.ts', from: '../rooms/index.ts', refused: true },
  { file: 'server/src/tasks/case.ts', from: '../access/index.ts', refused: false },
  // No lane folder imports another lane folder, nor the list that holds them all.
  { file: 'server/src/transports/sse/case.ts', from: '../long-polling/index.ts', refused: true },
  { file: 'server/src/transports/sse/case.ts', from: '../../transports/websocket/index.ts', refused: true },
  { file: 'server/src/transports/sse/case.ts', from: '../index.ts', refused: true },
  { file: 'server/src/transports/http-streaming/case.ts', from: '../sse/index.ts', refused: true },
  { file: 'server/src/transports/sse/case.ts', from: '../lane.ts', refused: false },
  { file: 'server/src/transports/sse/case.ts', from: '../../http/streamWire.ts', refused: false },
  { file: 'server/src/transports/sse/case.ts', from: './own.ts', refused: false },
  // Elsewhere on the server, lanes are reached through app.ts's list only.
  { file: 'server/src/faults/case.ts', from: '../transports/sse/index.ts', refused: true },
  { file: 'server/src/http/case.ts', from: '../transports/index.ts', refused: true },
  { file: 'server/src/http/case.ts', from: '../transports/lane.ts', refused: false },
  // The client's lanes: no lane imports another, nor the registry; no React, store or features.
  { file: 'client/src/transports/hybrid/case.ts', from: '../sse/index.ts', refused: true },
  {
    file: 'client/src/transports/hybrid/case.ts',
    from: '../../transports/long-polling/index.ts',
    refused: true,
  },
  { file: 'client/src/transports/hybrid/case.ts', from: '../registry.ts', refused: true },
  { file: 'client/src/transports/sse/case.ts', from: 'react', refused: true },
  { file: 'client/src/transports/sse/case.ts', from: 'zustand', refused: true },
  { file: 'client/src/transports/sse/case.ts', from: '../../store/index.ts', refused: true },
  { file: 'client/src/transports/sse/case.ts', from: '../../features/race/LaneCard.tsx', refused: true },
  { file: 'client/src/transports/sse/case.ts', from: '../async-task.ts', refused: false },
  { file: 'client/src/transports/sse/case.ts', from: '../../lib/time.ts', refused: false },
  { file: 'client/src/transports/sse/case.ts', from: './own.ts', refused: false },
  // … and the page reaches them through the registry only.
  { file: 'client/src/features/race/case.ts', from: '../../transports/webhook/index.ts', refused: true },
  { file: 'client/src/store/case.ts', from: '../transports/sse/index.ts', refused: true },
  { file: 'client/src/features/race/case.ts', from: '../../transports/registry.ts', refused: false },
  { file: 'client/src/features/race/case.ts', from: '../../transports/relay-hops.ts', refused: false },
  // The store, services and lib sit below the features; services and lib below the store.
  { file: 'client/src/store/case.ts', from: '../features/room/RoomPage.tsx', refused: true },
  { file: 'client/src/store/case.ts', from: '../services/room-connection.ts', refused: false },
  { file: 'client/src/services/case.ts', from: '../features/faults/FaultPanel.tsx', refused: true },
  { file: 'client/src/services/case.ts', from: '../store/index.ts', refused: true },
  { file: 'client/src/lib/case.ts', from: '../store/settings-slice.ts', refused: true },
  { file: 'client/src/lib/case.ts', from: '../features/race/LaneCard.tsx', refused: true },
  { file: 'client/src/services/case.ts', from: '../lib/time.ts', refused: false },
];

let dir: string;
/** `file:line` of every noRestrictedImports error Biome reported. */
let refusedAt: Set<string>;

beforeAll(() => {
  dir = tempDataDir();
  copyFileSync(join(repo, 'biome.json'), join(dir, 'biome.json'));
  // One file per case: the cases sharing a path become its numbered files.
  cases.forEach((c, index) => {
    const path = join(dir, c.file.replace(/case\.ts$/, `case${index}.ts`));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `import * as imported from '${c.from}';\n\nexport const used = imported;\n`);
  });
  // The temporary copy is no git work tree: Biome's ignore-file lookup is turned off for it.
  const run = spawnSync(process.execPath, [biome, 'lint', '--vcs-enabled=false', '--reporter=github', '.'], {
    cwd: dir,
    encoding: 'utf8',
  });
  refusedAt = new Set(
    [...run.stdout.matchAll(/^::error title=lint\/style\/noRestrictedImports,file=([^,]+),line=(\d+)/gm)].map(
      ([, file, line]) => `${file}:${line}`,
    ),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the import rules (biome.json overrides)', () => {
  it.each(cases.map((c, index) => [c.file, c.from, c.refused, index] as const))(
    'in %s, importing %s is refused: %s',
    (file, _from, refused, index) => {
      const path = join(dir, file.replace(/case\.ts$/, `case${index}.ts`));
      expect(refusedAt.has(`${path}:1`)).toBe(refused);
    },
  );

  it('hold for the repository as it is: no source file breaks one', () => {
    const run = spawnSync(
      process.execPath,
      [
        biome,
        'lint',
        '--reporter=github',
        '--only=style/noRestrictedImports',
        'shared/src',
        'server/src',
        'client/src',
      ],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(run.stdout).not.toMatch(/noRestrictedImports/);
    expect(run.status).toBe(0);
  });
});
