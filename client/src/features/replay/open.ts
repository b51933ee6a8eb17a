import { RACE_EXPORT_VERSION, RaceExport } from '@transport-lab/shared';

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

export type OpenResult = { ok: true; data: RaceExport } | { ok: false; message: string };

const FORMAT = 'transport-lab/race';

export function readRecording(text: string, name: string): OpenResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: `${name} is not a recording: it is not JSON.` };
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== FORMAT) {
    return {
      ok: false,
      message: `${name} is not a recording: a Transport Lab race export says "format": "${FORMAT}".`,
    };
  }
  const version = (json as { version?: unknown }).version;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return { ok: false, message: `${name} is not a recording: it names no format version.` };
  }
  if (version > RACE_EXPORT_VERSION) {
    return {
      ok: false,
      message: `${name} is a recording of format version ${version}, newer than this page reads (version ${RACE_EXPORT_VERSION}): open it with a newer Transport Lab.`,
    };
  }
  if (!REPLAYABLE_VERSIONS.includes(version)) {
    return {
      ok: false,
      message: `${name} is a recording of format version ${version}, which this page cannot replay (it reads version ${REPLAYABLE_VERSIONS.join(', ')}).`,
    };
  }
  const parsed = RaceExport.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return {
      ok: false,
      message: `${name} is not a complete recording of version ${version}: ${issue?.message ?? 'it does not match the schema'}${where}.`,
    };
  }
  if (parsed.data.lanes.length === 0) {
    return { ok: false, message: `${name} is a recording of no lane: there is nothing to replay.` };
  }
  return { ok: true, data: parsed.data };
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
