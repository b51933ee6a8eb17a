import { API_PATHS, ErrorEnvelope } from '@transport-lab/shared';
import { ServerView } from '@transport-lab/shared/server-view';
import { OBSERVATION } from '../../lib/observation.ts';

/**
 * `GET /api/server-view`, parsed with the shared schema. The lab's own request, not a lane's: the
 * observation init (no cookies: no network link shapes it, and Chromium keeps it off the lanes'
 * connections) and untagged, so no lane is charged for it.
 */
export async function loadServerView(
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<ServerView> {
  const response = await fetchImpl(API_PATHS.serverView, OBSERVATION);
  const json: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const envelope = ErrorEnvelope.safeParse(json);
    throw new Error(
      envelope.success
        ? `${envelope.data.error.message} (${response.status} ${envelope.data.error.code})`
        : `GET ${API_PATHS.serverView} answered ${response.status}`,
    );
  }
  const parsed = ServerView.safeParse(json);
  if (!parsed.success) throw new Error('the server’s view does not match the protocol');
  return parsed.data;
}
