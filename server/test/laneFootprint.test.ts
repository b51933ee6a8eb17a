import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LANE_IDS } from '@transport-lab/shared';
import { describe, expect, it } from 'vitest';

/**
 * A lane is a plug-in: its two folders (`server/src/transports/<id>/`, `client/src/transports/<id>/`)
 * and its entry in the shared lane list are all the product's code knows of it. The lanes are loaded
 * by their shared ids (server/src/transports/index.ts, client/src/transports/lanes.ts), and the
 * OpenAPI document holds what each lane describes of itself. The eighth lane, HTTP streaming, was
 * added that way: this walks every source file of shared, server, client and scripts (tests and docs
 * aside) and fails on one outside those places that names it, which is where an edit for the next
 * lane would be needed.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_ROOTS = ['shared/src', 'server/src', 'client/src', 'scripts'];
const SOURCE = /\.(ts|tsx|mjs|js|css|html)$/;
const TEST = /\.test\.(ts|tsx|mjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return name === 'node_modules' || name === 'testing' ? [] : sourceFiles(path);
    return SOURCE.test(name) && !TEST.test(name) ? [relative(repo, path).split(sep).join('/')] : [];
  });
}

/** The places a lane's code may live, and the one list that names every lane. */
const allowedFor = (id: string) => [
  `server/src/transports/${id}/`,
  `client/src/transports/${id}/`,
  'shared/src/protocol/lanes.ts',
];

/** How code would name the HTTP streaming lane: its id, its shared constant, its functions. */
const HTTP_STREAMING_NAMES = /http-streaming|HTTP_STREAMING|httpStreaming|HttpStreaming|HttpStream\b|ndjson/;

const files = SOURCE_ROOTS.flatMap((root) => sourceFiles(join(repo, root)));

describe('a lane is its two folders and its entry in the shared list', () => {
  it('walks the source (a sanity check that the walk finds the lanes themselves)', () => {
    for (const id of LANE_IDS) {
      expect(files).toContain(`server/src/transports/${id}/index.ts`);
      expect(files).toContain(`client/src/transports/${id}/index.ts`);
    }
  });

  it('the HTTP streaming lane is named nowhere else in the product’s code', () => {
    const allowed = allowedFor('http-streaming');
    const naming = files.filter(
      (file) =>
        !allowed.some((place) => file.startsWith(place)) &&
        HTTP_STREAMING_NAMES.test(readFileSync(join(repo, file), 'utf8')),
    );
    expect(naming).toEqual([]);
  });

  it('no code outside a lane’s folders imports them: they are found by their shared ids', () => {
    const importFrom = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
    const laneFolder = /^(server|client)\/src\/transports\/([a-z-]+)\//;
    const reaching = files.flatMap((file) =>
      [...readFileSync(join(repo, file), 'utf8').matchAll(importFrom)].flatMap(([, specifier]) => {
        const target = relative(repo, join(repo, dirname(file), specifier as string))
          .split(sep)
          .join('/');
        const lane = laneFolder.exec(target)?.[2];
        const outside = lane !== undefined && (LANE_IDS as readonly string[]).includes(lane);
        return outside && !allowedFor(lane).some((place) => file.startsWith(place))
          ? [`${file} → ${target}`]
          : [];
      }),
    );
    expect(reaching).toEqual([]);
  });
});
