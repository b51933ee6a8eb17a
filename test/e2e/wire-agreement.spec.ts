import { LAB_TAGS, LANE_IDS, type LaneId } from '@transport-lab/shared';
import { type LoggedRequest, NetworkLog } from '../fixtures/networkLog.ts';
import { toBytes, toCount } from '../fixtures/racePage.ts';
import { expect, test } from '../fixtures/test.ts';

/** A lane's own traffic: the task routes, socket.io and the receiver's relay; never the lab's own
 *  observation (clock pings, settings, the webhook delivery log, the server's wire report). */
function isLaneTraffic(url: URL): boolean {
  if (url.pathname.endsWith('/deliveries')) return false;
  return (
    url.pathname.startsWith('/api/tasks') ||
    url.pathname.startsWith('/socket.io') ||
    url.pathname.startsWith('/relay/tasks')
  );
}

function totals(requests: LoggedRequest[]) {
  return {
    requests: requests.length,
    bytesUp: requests.reduce((sum, r) => sum + r.bytesUp, 0),
    bytesDown: requests.reduce((sum, r) => sum + r.bytesDown, 0),
  };
}

/** Within 2 % of Chromium's figure (the bound). */
const within2Percent = (page: number, chromium: number) => Math.abs(page - chromium) <= 0.02 * chromium;

for (const lane of LANE_IDS) {
  test(`${lane}: the page's requests and bytes agree with Chromium's network log within 2 %`, async ({
    racePage,
  }) => {
    const log = await NetworkLog.attach(racePage.page);
    await racePage.goto();
    await racePage.configure({ durationMs: 1_200, steps: 6, lanes: [lane] });
    for (const other of LANE_IDS) if (other !== lane) await racePage.laneToggle(other).uncheck();
    // The websocket lane's socket is opened ahead of the race, tagged for this lane (the page's
    // preconnect): it is this race's traffic, and stays in the log.
    log.clear((url, req) => req.kind === 'websocket' && url.searchParams.get(LAB_TAGS.laneQuery) === lane);
    await racePage.startButton.click();
    await expect(racePage.card(lane)).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
    // This race's sockets only: the next race's socket opens as soon as this one has ended.
    const runId = await racePage.page.getByTestId('export-bar').getAttribute('data-run-id');
    const ofThisRace = (url: URL) =>
      !url.pathname.startsWith('/socket.io') || url.searchParams.get(LAB_TAGS.runQuery) === runId;

    // The page settles its byte counts when each stream's timing entry appears; Chromium's log
    // settles when each stream closes. Both are observable: poll until they agree or time runs out.
    let report = '';
    await expect
      .poll(
        async () => {
          const text = await racePage.metricTexts(lane as LaneId);
          const page = {
            requests: toCount(text.requests),
            bytesUp: toBytes(text['bytes-up'].replace(/\s*at least$/, '')),
            bytesDown: toBytes(text['bytes-down'].replace(/\s*at least$/, '')),
          };
          const chromium = totals(log.matching((url) => isLaneTraffic(url) && ofThisRace(url)));
          report = JSON.stringify({
            page,
            chromium,
            each: log
              .matching((url) => isLaneTraffic(url) && ofThisRace(url))
              .map((r) => [
                r.url.replace(/^http:..[^/]+/, '').slice(0, 40),
                r.bytesUp,
                r.bytesDown,
                r.finished,
              ]),
          });
          // Chromium's figure for an HTTP exchange is whole only once it finished (a stream the page cut
          // first keeps a partial count): the server ends every stream after the terminal event.
          const whole = log
            .matching((url, req) => isLaneTraffic(url) && req.kind === 'http')
            .every((r) => r.finished);
          return (
            whole &&
            page.requests === chromium.requests &&
            within2Percent(page.bytesUp, chromium.bytesUp) &&
            within2Percent(page.bytesDown, chromium.bytesDown)
          );
        },
        { timeout: 10_000, message: `${lane}: page vs Chromium` },
      )
      .toBe(true)
      .catch(async (error: unknown) => {
        const entries = await racePage.page.evaluate(() =>
          performance
            .getEntriesByType('resource')
            .filter((e) => e.name.includes('relay') || e.name.includes('/stream'))
            .map((e) => {
              const r = e as PerformanceResourceTiming;
              return [r.name.slice(0, 60), r.transferSize, r.encodedBodySize, r.decodedBodySize];
            }),
        );
        throw new Error(`${lane}: ${report}\nentries ${JSON.stringify(entries)}\n${String(error)}`);
      });
    await log.detach();
  });
}
