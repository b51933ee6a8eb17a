import {
  ErrorEnvelope,
  FAULT_PATHS,
  type Fault,
  type FaultRecord,
  FaultResponse,
  FaultsResponse,
} from '@transport-lab/shared';
import { OBSERVATION } from '../lib/observation.ts';
import { operatorHeaders } from '../lib/operator.ts';

/**
 * The page's fault requests are the lab's own, not a lane's: sent with the observation init (no
 * cookies, so no network link shapes them and they keep out of the lanes' connection pool), and
 * untagged, so the server counts them against no lane. A fault of this page's own run needs only
 * the run id in it; one that reaches everyone (a restart) needs the operator, so the token of the
 * presenter's link goes with it when this tab has one (lib/operator.ts).
 */
export async function injectFault(
  fault: Fault,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  operator: Record<string, string> = operatorHeaders(),
): Promise<FaultRecord> {
  const response = await fetchImpl(FAULT_PATHS.faults, {
    ...OBSERVATION,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...operator },
    body: JSON.stringify(fault),
  });
  const json: unknown = await response.json().catch(() => undefined);
  if (response.status === 201) {
    const parsed = FaultResponse.safeParse(json);
    if (!parsed.success) throw new Error('the fault record does not match the protocol');
    return parsed.data.fault;
  }
  const envelope = ErrorEnvelope.safeParse(json);
  throw new Error(
    envelope.success
      ? `${envelope.data.error.message} (${response.status} ${envelope.data.error.code})`
      : `POST ${FAULT_PATHS.faults} answered ${response.status}`,
  );
}

/** `GET /api/faults?runId=`: every fault the server applied to the run (a restart by anyone included). */
export async function fetchFaults(
  runId: string,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): Promise<FaultRecord[]> {
  const response = await fetchImpl(`${FAULT_PATHS.faults}?${new URLSearchParams({ runId })}`, OBSERVATION);
  if (!response.ok) throw new Error(`GET ${FAULT_PATHS.faults} answered ${response.status}`);
  const parsed = FaultsResponse.safeParse(await response.json());
  if (!parsed.success) throw new Error('the fault list does not match the protocol');
  return parsed.data.faults;
}
