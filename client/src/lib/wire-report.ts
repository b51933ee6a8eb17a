import { API_PATHS, WireReport } from '@transport-lab/shared';
import { OBSERVATION } from './observation.ts';

/**
 * `GET /api/wire/{runId}`: the server's own count of one race's traffic. The lab's observation, so
 * neither metered nor tagged: it is no lane's cost, and the server never counts it.
 */
export async function fetchWireReport(
  runId: string,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<WireReport> {
  const response = await fetchImpl(API_PATHS.wire(runId), OBSERVATION);
  if (response.status === 404)
    throw new Error('the server has no count of this race (expired, or never seen)');
  if (!response.ok) throw new Error(`GET ${API_PATHS.wire(runId)} answered ${response.status}`);
  const parsed = WireReport.safeParse(await response.json());
  if (!parsed.success) throw new Error('the wire report does not match the protocol');
  return parsed.data;
}
