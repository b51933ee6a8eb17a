import { PROTOCOL_VERSION } from '@transport-lab/shared';
import { useAppStore } from '../../store/index.ts';
import { FaultPanel } from '../faults/FaultPanel.tsx';
import { ScenarioPanel } from '../scenarios/ScenarioPanel.tsx';
import { ScenarioVerdict } from '../scenarios/ScenarioVerdict.tsx';
import { ServerViewFold } from '../server-view/ServerViewEntry.tsx';
import { Announcer } from './Announcer.tsx';
import { ClockReadout } from './ClockReadout.tsx';
import { ExportBar } from './ExportBar.tsx';
import { Glossary } from './Glossary.tsx';
import { GuideEntry } from './GuideEntry.tsx';
import { LinkNotes } from './LinkNotes.tsx';
import { MetricsTable } from './MetricsTable.tsx';
import { RaceBoard } from './RaceBoard.tsx';
import { RaceControls } from './RaceControls.tsx';
import { ReplayEntry } from './ReplayEntry.tsx';
import { Timeline } from './Timeline.tsx';
import { ViewToggle } from './ViewToggle.tsx';
import { WireCompare } from './WireCompare.tsx';

export function RacePage() {
  // A recording plays on the cards, right under its banner: Start, the settings, faults and guided
  // scenarios act on live races only, and their panels pushed the cards off a projector's screen.
  const replaying = useAppStore((s) => s.race.recording !== undefined);
  return (
    <div className="page">
      <header className="page-head">
        <div className="title">
          <h1>Transport Lab</h1>
          <p className="tagline">One task, several transports, side by side: every number measured.</p>
        </div>
        <ClockReadout />
        <ViewToggle />
      </header>
      <main>
        <LinkNotes />
        <ReplayEntry />
        {/* Start/Cancel and the panels that fold into one bar while a race runs (the show on one screen). */}
        {replaying ? null : (
          <div className="race-bar">
            <RaceControls />
            <FaultPanel />
            <ScenarioPanel />
          </div>
        )}
        <ScenarioVerdict />
        <RaceBoard />
        <Timeline />
        <MetricsTable />
        <WireCompare />
        <ServerViewFold of="page" />
        <ExportBar />
        {replaying ? null : <GuideEntry />}
        <Announcer />
      </main>
      <footer className="page-foot">
        <Glossary />
        <details>
          <summary>How these numbers are measured</summary>
          <ul>
            <li>
              Times are taken on this page's monotonic clock; a value counts as shown in the animation frame
              that painted it. Server timestamps are moved onto this clock with the offset above (best of
              several pings), so completion lag and the delay per update carry its ± uncertainty.
            </li>
            <li>
              HTTP: bytes down are the Resource Timing transfer size (headers and body); bytes up are the size
              the server read off the wire, sent back in the <code>x-request-bytes</code> header.
            </li>
            <li>
              WebSocket: every frame sent and received on the socket, with its exact RFC 6455 framing; the
              opening handshake counts as one request, and its HTTP upgrade bytes (invisible to a web page)
              are the ones the server read and wrote on its socket, reported back on each connection. The
              closing control frames are not counted.
            </li>
            <li>
              Server-Sent Events and the webhook relay: an EventSource shows no answer headers, so its bytes
              up are not measured, and its Resource Timing entry exists only once the stream has ended. Until
              then each message is counted as the server frames it; then the entry replaces that count where
              it measured the body. A reconnection counts as a request once the page can see that it reached
              the server; attempts refused while the server is down count only as reconnect attempts. A total
              that misses something reads "at least" and earns no best mark.
            </li>
            <li>
              Polling: a wasted poll is one that brought nothing new (a <code>304</code>, an unchanged state,
              an empty long poll). A polled state says when its newest event happened (<code>updatedAt</code>
              ), so its delay per update is exact; from a server without it, the delay is timed from the
              step's schedule and marked as an upper bound.
            </li>
            <li>
              Two ages, two questions. <em>Delay per update</em> (on the cards): how old each progress value
              was when it reached the screen, over the values shown; "k of n updates shown" says how many that
              was. <em>Age of information, time-averaged</em> (the interval sweep): how old the value on
              screen was, averaged over every moment from the first value shown to the finish. A lane that
              skips values (a slow poll, a buffered stream) keeps a small delay per update while its age of
              information grows.
            </li>
            <li>
              Best marks (★): only for a lead of more than 5 % and, on a time, more than the clock's stated
              uncertainty; leaders closer than that share the mark or get none.
            </li>
            <li>
              Webhook: the deliveries go from the server to your backend, not through this page, and are not
              counted; the delivery log is fetched by the lab for the card and is not counted either. The
              delivery hop is timed on the server's clock alone; the relay hop needs the offset above.
            </li>
            <li>
              Connections: a page cannot see which TCP connections its requests used. Over HTTP/1.1 a browser
              opens at most 6 per origin (WebSockets apart): the lanes hold at most five at once (the blocking
              call, a long poll, three streams; the webhook relay is another origin), but another tab of this
              page shares the six, and its requests then wait. A card says so when one of its requests waited.
            </li>
            <li>
              Connections in the table: "opened" counts the requests whose Resource Timing shows a new
              connection (a WebSocket is one per handshake; a stream shows its timing only once it has ended);
              "in use at once" is the most exchanges the lane had in flight together, each holding a
              connection of its own over HTTP/1.1. Idle keep-alive connections are invisible to a page; the
              server's count sees them.
            </li>
            <li>
              The fair start: every lane of a race starts in one animation frame, whose time is every lane's
              0; the timeline's axis starts there.
            </li>
            <li>Best marks compare lanes the server carried to the end of the same task; lower is better.</li>
          </ul>
        </details>
        <p className="version">Protocol v{PROTOCOL_VERSION}</p>
      </footer>
    </div>
  );
}
