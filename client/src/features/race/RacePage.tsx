import { PROTOCOL_VERSION } from '@transport-lab/shared';
import { Announcer } from './Announcer.tsx';
import { ClockReadout } from './ClockReadout.tsx';
import { RaceBoard } from './RaceBoard.tsx';
import { RaceControls } from './RaceControls.tsx';
import { ViewToggle } from './ViewToggle.tsx';

export function RacePage() {
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
        <RaceControls />
        <RaceBoard />
        <Announcer />
      </main>
      <footer className="page-foot">
        <details>
          <summary>How these numbers are measured</summary>
          <ul>
            <li>
              Times are taken on this page's monotonic clock; a value counts as shown in the animation frame
              that painted it. Server timestamps are moved onto this clock with the offset above (best of
              several pings), so completion lag and progress age carry its ± uncertainty.
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
            <li>Best marks compare lanes the server carried to the end of the same task; lower is better.</li>
          </ul>
        </details>
        <p className="version">Protocol v{PROTOCOL_VERSION}</p>
      </footer>
    </div>
  );
}
