import {
  RACE_EXPORT_VERSION,
  RaceExport,
  ROOM_RACE_EXPORT_VERSION,
  RoomRaceExport,
} from '@transport-lab/shared';

/**
 * Reads a file or a fetched body as a race recording (the race page's JSON export), checked with the
 * shared schema before anything is shown: what is refused is refused in words, and changes nothing.
 * The version is read first, so that a file from a newer Transport Lab is told apart from a broken one.
 */

/**
 * Every export version this page can replay. Only version 1 has been written so far; an older one
 * would be listed here once a reader for it exists (RACE_EXPORT_VERSION says what is written now).
 */
export const REPLAYABLE_VERSIONS: readonly number[] = [RACE_EXPORT_VERSION];

/** A room's race recording (`RoomRaceExport`): versions this page can replay. */
export const REPLAYABLE_ROOM_VERSIONS: readonly number[] = [ROOM_RACE_EXPORT_VERSION];

export type OpenResult =
  | { ok: true; kind: 'race'; data: RaceExport }
  | { ok: true; kind: 'room'; data: RoomRaceExport }
  | { ok: false; message: string };

const FORMAT = 'transport-lab/race';
const ROOM_FORMAT = 'transport-lab/room-race';

/** The format's version checks, shared by a race's and a room's recordings. */
function versionProblem(name: string, version: unknown, written: number, readable: readonly number[]) {
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return `${name} is not a recording: it names no format version.`;
  }
  if (version > written) {
    return `${name} is a recording of format version ${version}, newer than this page reads (version ${written}): open it with a newer Transport Lab.`;
  }
  if (!readable.includes(version)) {
    return `${name} is a recording of format version ${version}, which this page cannot replay (it reads version ${readable.join(', ')}).`;
  }
  return undefined;
}

function schemaProblem(
  name: string,
  version: number,
  issue: { message: string; path: PropertyKey[] } | undefined,
) {
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
  return `${name} is not a complete recording of version ${version}: ${issue?.message ?? 'it does not match the schema'}${where}.`;
}

export function readRecording(text: string, name: string): OpenResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: `${name} is not a recording: it is not JSON.` };
  }
  const format =
    typeof json === 'object' && json !== null ? (json as { format?: unknown }).format : undefined;
  if (format !== FORMAT && format !== ROOM_FORMAT) {
    return {
      ok: false,
      message: `${name} is not a recording: a Transport Lab race export says "format": "${FORMAT}" (a room's, "${ROOM_FORMAT}").`,
    };
  }
  const version = (json as { version?: unknown }).version;
  if (format === ROOM_FORMAT) {
    const problem = versionProblem(name, version, ROOM_RACE_EXPORT_VERSION, REPLAYABLE_ROOM_VERSIONS);
    if (problem) return { ok: false, message: problem };
    const parsed = RoomRaceExport.safeParse(json);
    if (!parsed.success) {
      return { ok: false, message: schemaProblem(name, version as number, parsed.error.issues[0]) };
    }
    return { ok: true, kind: 'room', data: parsed.data };
  }
  const problem = versionProblem(name, version, RACE_EXPORT_VERSION, REPLAYABLE_VERSIONS);
  if (problem) return { ok: false, message: problem };
  const parsed = RaceExport.safeParse(json);
  if (!parsed.success) {
    return { ok: false, message: schemaProblem(name, version as number, parsed.error.issues[0]) };
  }
  if (parsed.data.lanes.length === 0) {
    return { ok: false, message: `${name} is a recording of no lane: there is nothing to replay.` };
  }
  return { ok: true, kind: 'race', data: parsed.data };
}

/** `?replay=<url>`: the address of a recording, fetched as it is (the page's CSP allows its own origin). */
export async function fetchRecording(url: string): Promise<OpenResult> {
  let text: string;
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok)
      return { ok: false, message: `The recording ${url} could not be fetched: HTTP ${response.status}.` };
    text = await response.text();
  } catch (error) {
    return {
      ok: false,
      message: `The recording ${url} could not be fetched (${error instanceof Error ? error.message : String(error)}).`,
    };
  }
  return readRecording(text, url);
}

/** One entry of recordings/index.json, the bundled recordings listed under "Recorded races". */
export interface BundledRecording {
  /** Relative to the index. */
  file: string;
  title: string;
}

/** The bundled recordings' list; an empty list when there is none (a build without them). */
export async function fetchBundledIndex(indexUrl: string): Promise<BundledRecording[]> {
  const response = await fetch(indexUrl, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const body = (await response.json()) as { recordings?: unknown };
  if (!Array.isArray(body.recordings)) throw new Error('the list names no recordings');
  return body.recordings.flatMap((r: unknown): BundledRecording[] => {
    const entry = r as Partial<BundledRecording>;
    return typeof entry.file === 'string' && typeof entry.title === 'string'
      ? [{ file: entry.file, title: entry.title }]
      : [];
  });
}
