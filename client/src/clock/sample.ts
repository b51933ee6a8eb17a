import { API_PATHS, type ClockSample, TimeResponse } from '@transport-lab/shared';
import { OBSERVATION } from '../lib/observation.ts';
import { clientNow } from '../lib/time.ts';

/** One NTP-style exchange with `GET /api/time`: t0 sent, t1/t2 server receipt/send, t3 received. */
export async function sampleServerClock(
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  now: () => number = clientNow,
): Promise<ClockSample> {
  const t0 = now();
  const response = await fetchImpl(API_PATHS.time, OBSERVATION);
  if (!response.ok) throw new Error(`GET ${API_PATHS.time} answered ${response.status}`);
  const body: unknown = await response.json();
  const t3 = now();
  const { receivedAt, sentAt } = TimeResponse.parse(body);
  return { t0, t1: receivedAt, t2: sentAt, t3 };
}
