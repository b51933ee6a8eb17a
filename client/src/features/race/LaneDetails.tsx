import type { DeliveriesResponse, Delivery, DeliveryAttempt, LaneInfo } from '@transport-lab/shared';
import { memo } from 'react';
import type { LaneRunState } from '../../store/types.ts';
import type { HopStat, HopSummary } from '../../transports/relay-hops.ts';
import { formatMs, UNMEASURED } from './format.ts';

/**
 * What only some lanes measure, each part shown when the run has it: the path a hybrid took, every
 * poll of a polling lane, a stream's reconnects, a webhook's hops and delivery attempts. One card for
 * every lane: the data decides what appears, not the lane's name.
 */
export function LaneDetails({
  lane,
  run,
  hops,
}: {
  lane: LaneInfo;
  run: LaneRunState;
  hops: HopSummary | undefined;
}) {
  const hasFacts = run.path !== undefined || run.reconnects !== undefined || hops !== undefined;
  return (
    <>
      {hasFacts ? (
        <dl className="facts">
          {run.path ? (
            <div className="fact">
              <dt>Path</dt>
              <dd>
                <span data-testid="lane-path" data-path={run.path.kind}>
                  {run.path.text}
                </span>
                {run.path.detail ? <span className="fact-detail">{run.path.detail}</span> : null}
              </dd>
            </div>
          ) : null}
          {run.reconnects !== undefined ? (
            <div className="fact">
              <dt>Reconnect attempts</dt>
              <dd className="num" data-testid="metric-reconnects">
                {run.reconnects}
              </dd>
            </div>
          ) : null}
          {hops ? (
            <>
              <HopFact
                label="Delivery hop"
                way="event → your backend"
                testId="metric-delivery-hop"
                stat={hops.delivery}
              />
              <HopFact
                label="Held at your backend"
                way="until the page’s stream was there"
                testId="metric-held-hop"
                stat={hops.held}
              />
              <HopFact
                label="Relay hop"
                way="your backend → this page"
                testId="metric-relay-hop"
                stat={hops.relay}
                missing="needs the clock offset"
              />
            </>
          ) : null}
        </dl>
      ) : null}
      {run.polls && run.polls.length > 0 ? <PollStrip lane={lane} polls={run.polls} /> : null}
      {run.deliveries ? <Deliveries lane={lane} log={run.deliveries} /> : null}
    </>
  );
}

function HopFact({
  label,
  way,
  testId,
  stat,
  missing,
}: {
  label: string;
  way: string;
  testId: string;
  stat: HopStat | undefined;
  missing?: string;
}) {
  return (
    <div className="fact">
      <dt>
        {label}
        <span className="fact-detail">{way}</span>
      </dt>
      <dd>
        <span className="num" data-testid={testId}>
          {stat ? formatMs(stat.meanMs) : UNMEASURED}
        </span>
        <span className="fact-detail num">
          {stat ? `mean, max ${formatMs(stat.maxMs)}` : (missing ?? '')}
        </span>
      </dd>
    </div>
  );
}

const POLL_WORDS = { news: 'news', wasted: 'wasted', error: 'failed' } as const;

/**
 * One mark per poll, in order: filled = news, hollow and struck = wasted, "!" = failed. Drawn again
 * only when the polls change, not for every other change of the card.
 */
const PollStrip = memo(function PollStrip({
  lane,
  polls,
}: {
  lane: LaneInfo;
  polls: NonNullable<LaneRunState['polls']>;
}) {
  const count = (outcome: keyof typeof POLL_WORDS) => polls.filter((p) => p.outcome === outcome).length;
  const summary = `${polls.length} ${polls.length === 1 ? 'poll' : 'polls'}: ${count('news')} with news, ${count('wasted')} wasted${
    count('error') > 0 ? `, ${count('error')} failed` : ''
  }`;
  return (
    <div className="polls" data-testid="lane-polls">
      <p className="polls-legend" aria-hidden="true">
        <span className="poll-mark" data-outcome="news" /> news
        <span className="poll-mark" data-outcome="wasted" /> wasted
        <span className="poll-mark" data-outcome="error" /> failed
      </p>
      <ol className="poll-strip" aria-label={`${lane.name} polls. ${summary}`}>
        {polls.map((poll, i) => (
          <li
            // Polls never move or vanish: the index is their identity.
            // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
            key={i}
            className="poll-mark"
            data-outcome={poll.outcome}
            title={`Poll ${i + 1}: ${poll.label} (${POLL_WORDS[poll.outcome]})`}
          >
            <span className="visually-hidden">
              {`Poll ${i + 1}, ${POLL_WORDS[poll.outcome]}: ${poll.label}`}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
});

function attemptText(attempt: DeliveryAttempt): string {
  const status = attempt.httpStatus !== undefined ? `HTTP ${attempt.httpStatus}` : 'no answer';
  const error = attempt.error ? ` (${attempt.error})` : '';
  return `#${attempt.attempt} ${status} ${attempt.outcome}, ${formatMs(attempt.durationMs)}${error}`;
}

/** The retry's delay after the last attempt ended, on the server's clock alone: no offset needed. */
function nextRetryText(delivery: Delivery): string | undefined {
  const last = delivery.attempts.at(-1);
  if (delivery.nextAttemptAt === undefined || !last) return undefined;
  const after = delivery.nextAttemptAt - (last.startedAt + last.durationMs);
  return `next attempt ${formatMs(Math.max(0, after))} after the last`;
}

/** Every delivery and each of its attempts, from the server's delivery log; drawn again when it changes. */
const Deliveries = memo(function Deliveries({ lane, log }: { lane: LaneInfo; log: DeliveriesResponse }) {
  const attempts = log.deliveries.reduce((n, d) => n + d.attempts.length, 0);
  const retried = log.deliveries.filter((d) => d.attempts.length > 1).length;
  const pending = log.deliveries.filter((d) => d.state === 'pending').length;
  return (
    <section
      className="deliveries"
      data-testid="lane-deliveries"
      aria-label={`${lane.name} delivery attempts`}
    >
      <p className="deliveries-head">
        <span className="num">{log.deliveries.length}</span> deliveries,{' '}
        <span className="num">{attempts}</span> attempts{retried > 0 ? `, ${retried} retried` : ''}
        {pending > 0 ? `, ${pending} pending` : ''}
        {log.subscriber?.disabled
          ? ` — subscriber disabled: ${log.subscriber.disabledReason ?? 'no reason'}`
          : ''}
      </p>
      {/* Scrolls inside the card; focusable so that a keyboard can scroll it too. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <ol className="delivery-list" tabIndex={0} aria-label="Deliveries by event">
        {log.deliveries.map((delivery) => (
          <li key={delivery.id} data-state={delivery.state}>
            <span className="delivery-event">
              <span className="num">{delivery.eventSeq}</span> {delivery.eventType.replace(/^task\./, '')}
            </span>{' '}
            <span className="delivery-state">{delivery.state}</span>
            {delivery.attempts.length > 0 ? (
              <span className="delivery-attempts num">
                : {delivery.attempts.map(attemptText).join(' → ')}
              </span>
            ) : null}
            {nextRetryText(delivery) ? (
              <span className="delivery-next">; {nextRetryText(delivery)}</span>
            ) : null}
          </li>
        ))}
      </ol>
    </section>
  );
});
