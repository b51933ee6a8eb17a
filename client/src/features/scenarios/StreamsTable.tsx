import { ms } from './checks.ts';
import type { StreamsTrial } from './checks-production.ts';

const cell = (value: number | undefined) => (value === undefined ? 'never' : ms(value));

/**
 * The six-streams experiment's figures, one row a stream: when its first event arrived over HTTP/1.1
 * and over HTTP/2, and the browser's port of the connection it came on (six ports on HTTP/1.1, one on
 * HTTP/2). A table, so that a screen reader reads each figure with its column's name.
 */
export function StreamsTable({ trials }: { trials: StreamsTrial[] }) {
  const h1 = trials.find((t) => t.protocol === 'HTTP/1.1');
  const h2 = trials.find((t) => t.protocol === 'HTTP/2');
  const rows = Array.from(
    { length: Math.max(h1?.streams.length ?? 0, h2?.streams.length ?? 0) },
    (_, k) => k,
  );
  const waited = (t: StreamsTrial | undefined, k: number) => {
    const hello = t?.streams[k]?.helloMs;
    return hello !== undefined && t?.closedFirstMs !== undefined && hello >= t.closedFirstMs;
  };
  return (
    <div className="table-scroll">
      <table className="wire-table streams-table" data-testid="streams-table">
        <caption>
          Each stream's first event, ms after the page opened the seven; stream 1 closed at{' '}
          {cell(h1?.closedFirstMs)} (HTTP/1.1) and {cell(h2?.closedFirstMs)} (HTTP/2)
        </caption>
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">HTTP/1.1: first event</th>
            <th scope="col">its connection (port)</th>
            <th scope="col">HTTP/2: first event</th>
            <th scope="col">its connection (port)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((k) => (
            <tr key={k}>
              <th scope="row">{k + 1}</th>
              <td className="num" data-waited={waited(h1, k)}>
                {cell(h1?.streams[k]?.helloMs)}
                {waited(h1, k) ? ' (waited for a connection)' : ''}
              </td>
              <td className="num">{h1?.streams[k]?.remotePort ?? '—'}</td>
              <td className="num" data-waited={waited(h2, k)}>
                {cell(h2?.streams[k]?.helloMs)}
                {waited(h2, k) ? ' (waited)' : ''}
              </td>
              <td className="num">{h2?.streams[k]?.remotePort ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
