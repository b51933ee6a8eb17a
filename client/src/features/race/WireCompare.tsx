import { LANE_IDS, LANES, type LaneId } from '@transport-lab/shared';
import type { CSSProperties } from 'react';
import { appStore } from '../../store/index.ts';
import { isRaceRunning } from '../../store/race-slice.ts';
import { useThrottledRace } from '../../store/use-throttled-race.ts';
import { compareLane, WIRE_FIGURES, type WireComparison, type WireFigure } from '../../store/wire-compare.ts';
import { UNMEASURED } from './format.ts';

const FIGURE_NAMES: Record<WireFigure, string> = {
  requests: 'Requests',
  bytesUp: 'Bytes up (B)',
  bytesDown: 'Bytes down (B)',
};

/**
 * Why the two counts may differ when the race had faults: a dropped connection makes the browser re-send a
 * request by itself (Chromium does when a reused connection closes before any answer, POST included),
 * which the server counts and the page never sees; a buffering proxy merges the stream's chunks, so the
 * server writes fewer chunk headers than the page, which counts each message as framed alone.
 */
export function faultedCountsNote(kinds: readonly string[]): string | undefined {
  const parts: string[] = [];
  if (kinds.includes('drop-connections') || kinds.includes('restart-server'))
    parts.push(
      'connections were cut: a browser re-sends a request by itself when a reused connection closes before any answer (Chromium does, a POST included), and the server counts the copy the page never saw',
    );
  if (kinds.includes('blackhole-connections'))
    parts.push(
      'a connection went dead without closing: what the server wrote into it after that never reached the page',
    );
  if (kinds.includes('buffer-streams'))
    parts.push(
      'a buffering proxy merged the event stream’s chunks, so the server wrote fewer chunk headers than the page counts, one per message',
    );
  return parts.length === 0
    ? undefined
    : `This race had faults: ${parts.join('; ')}. A difference here is the fault’s, not a bug.`;
}

/** A flagged figure's verdict in a race with faults: the difference is the fault's, said above. */
export function faultedVerdict(verdict: string): string {
  const blamed = verdict.replace(
    /: a bug (on one side|in the page’s count)$/,
    ': the fault’s, as said above',
  );
  return blamed === verdict ? `${verdict}: the fault’s, as said above` : blamed;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0';
}

function FigureCell({ figure, c }: { figure: WireFigure; c: WireComparison }) {
  return (
    <td data-figure={figure} data-flagged={c.flagged || undefined}>
      <span className="num">
        {c.page ?? UNMEASURED}
        {c.pageLowerBound && c.page !== undefined ? <span className="bound-word"> at least</span> : null}
        {' / '}
        {c.server ?? UNMEASURED}
      </span>
      {c.diff !== undefined && c.diff !== 0 ? (
        <span className="num diff">
          {signed(c.diff)}
          {c.relative !== undefined && Number.isFinite(c.relative)
            ? ` (${(c.relative * 100).toFixed(1)} %)`
            : ''}
        </span>
      ) : null}
      {c.flagged ? <span className="flag">⚠ differs</span> : null}
    </td>
  );
}

/**
 * Per lane, the page's own count of its requests and bytes beside the count the server kept on its
 * sockets (`GET /api/wire/{runId}`), with the difference: over 2 % is flagged, and said which side
 * misses what. The server's figure for the webhook lane includes its relay stream from the receiver.
 */
export function WireCompare() {
  const race = useThrottledRace(1_000);
  const running = isRaceRunning(race.lanes);
  if (race.actionAt === undefined) return null;
  const lanes = LANE_IDS.filter((id) => race.lanes[id] !== undefined) as LaneId[];
  const { wire } = race;
  const status = running
    ? 'The server’s count is fetched when the race has ended.'
    : !race.settled
      ? 'Waiting for the lanes’ last byte counts…'
      : wire.status === 'loading' || wire.status === 'idle'
        ? 'Asking the server for its count…'
        : wire.status === 'error'
          ? `The server’s count could not be had: ${wire.error ?? 'unknown error'}.`
          : wire.final
            ? 'The server’s count, final. A difference over 2 % is a bug on one side, unless the page marked its own count “at least”.'
            : 'The server still had some of this race’s exchanges open: its count may still grow.';
  // A fault changes what each side sees, so a difference during one is the fault's, not a bug (issue 12).
  const log = appStore.getState().raceLog();
  const faults = log.runId === race.runId ? log.faults.map((f) => f.record.fault.kind) : [];
  const faultNote = faultedCountsNote(faults);
  return (
    <section className="results-section" aria-labelledby="wire-title" data-testid="wire-compare">
      <h2 id="wire-title" className="section-title">
        Server’s count beside the page’s
      </h2>
      <p className="section-note" role="status" data-wire-status={wire.status}>
        {status}
      </p>
      {faultNote && wire.status === 'ready' ? (
        <p className="section-note" data-testid="wire-fault-note">
          {faultNote}
        </p>
      ) : null}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a table wider than the screen scrolls, and a keyboard must reach it */}
      <section className="table-scroll" tabIndex={0} aria-labelledby="wire-title">
        <table className="wire-table">
          <caption className="visually-hidden">
            Page's count / server's count for each lane, the difference, and what it means
          </caption>
          <thead>
            <tr>
              <th scope="col">Lane</th>
              {WIRE_FIGURES.map((figure) => (
                <th scope="col" key={figure}>
                  {FIGURE_NAMES[figure]} <span className="unit">page / server</span>
                </th>
              ))}
              <th scope="col">Verdict</th>
            </tr>
          </thead>
          <tbody>
            {lanes.map((id) => {
              const lane = race.lanes[id];
              if (!lane) return null;
              const server = wire.status === 'ready' ? wire.report?.lanes[id] : undefined;
              const haveServer = wire.status === 'ready';
              const c = compareLane(lane.wire, haveServer ? server : undefined);
              const shown = haveServer ? c : noServer(c);
              const flagged = WIRE_FIGURES.filter((f) => shown[f].flagged);
              const attrs: Record<string, number> = {};
              const put = (name: string, value: number | undefined) => {
                if (value !== undefined) attrs[name] = value;
              };
              put('data-page-requests', c.requests.page);
              put('data-page-bytes-up', c.bytesUp.page);
              put('data-page-bytes-down', c.bytesDown.page);
              if (haveServer) {
                put('data-server-requests', c.requests.server ?? 0);
                put('data-server-bytes-up', c.bytesUp.server ?? 0);
                put('data-server-bytes-down', c.bytesDown.server ?? 0);
              }
              return (
                <tr
                  key={id}
                  data-testid={`wire-compare-${id}`}
                  data-flagged={flagged.length > 0 || undefined}
                  style={{ '--lane-color': LANES[id].color } as CSSProperties}
                  {...attrs}
                >
                  <th scope="row">
                    <span className="lane-label">
                      <span className="lane-swatch" aria-hidden="true" />
                      <span className="lane-mark" aria-hidden="true">
                        {LANES[id].mark}
                      </span>
                      <span className="row-name">{LANES[id].name}</span>
                    </span>
                  </th>
                  {WIRE_FIGURES.map((figure) => (
                    <FigureCell key={figure} figure={figure} c={shown[figure]} />
                  ))}
                  <td className="verdict">
                    {!haveServer
                      ? UNMEASURED
                      : flagged.length === 0
                        ? 'agree within 2 %'
                        : flagged.map((f) => (
                            <span key={f} className="verdict-line">
                              {FIGURE_NAMES[f]}:{' '}
                              {faultNote ? faultedVerdict(shown[f].verdict) : shown[f].verdict}
                            </span>
                          ))}
                    {server ? (
                      <span className="verdict-line muted num">
                        server saw {server.connectionsOpened + server.receiverToPage.connectionsOpened}{' '}
                        connection
                        {server.connectionsOpened + server.receiverToPage.connectionsOpened === 1 ? '' : 's'}{' '}
                        opened, {server.maxOpenConnections + server.receiverToPage.maxOpenConnections} open at
                        most
                      </span>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </section>
  );
}

/** Before the server answers: the page's figures alone, nothing flagged. */
function noServer(c: Record<WireFigure, WireComparison>): Record<WireFigure, WireComparison> {
  const strip = (x: WireComparison): WireComparison => ({
    pageLowerBound: x.pageLowerBound,
    flagged: false,
    verdict: '',
    ...(x.page !== undefined ? { page: x.page } : {}),
  });
  return { requests: strip(c.requests), bytesUp: strip(c.bytesUp), bytesDown: strip(c.bytesDown) };
}
