import { LANES, type LaneId } from '@transport-lab/shared';
import { type Fit, type GuideResult, SAFEGUARDS } from '@transport-lab/shared/guide';
import type { CSSProperties } from 'react';

const FIT_SAID: Record<Fit, string> = {
  fits: 'fits',
  workable: 'workable, at a cost',
  unsuitable: 'unsuitable',
};

function LaneName({ id }: { id: LaneId }) {
  return (
    <span className="lane-chip" style={{ '--lane-color': LANES[id].color } as CSSProperties}>
      <span className="lane-mark" aria-hidden="true">
        {LANES[id].mark}
      </span>{' '}
      {LANES[id].name}
    </span>
  );
}

/**
 * The recommendation (one lane or a combination) and every lane ranked: its fit said in words (never
 * colour alone), its reasons marked for (+) and against (−), how it fails, and what a team must build.
 */
export function GuideRanking({ result }: { result: GuideResult }) {
  const { plan, ranked } = result;
  return (
    <section className="guide-ranking" aria-labelledby="guide-ranking-title" data-testid="guide-ranking">
      <h3 id="guide-ranking-title" className="guide-subtitle">
        Recommendation
      </h3>
      <div className={`guide-plan guide-plan-${plan.kind}`} data-testid="guide-plan" data-kind={plan.kind}>
        <p>{plan.summary}</p>
        {plan.parts.length > 0 ? (
          <ul className="guide-plan-parts">
            {plan.parts.map((part) => (
              <li key={part.lane} data-lane={part.lane}>
                <LaneName id={part.lane} /> for {part.role}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <ol className="guide-lanes" aria-label="Lanes ranked for these answers">
        {ranked.map((r, k) => (
          <li key={r.lane} className="guide-lane" data-lane={r.lane} data-fit={r.fit}>
            <details open={k === 0}>
              <summary>
                <span className="guide-rank">{k + 1}.</span> <LaneName id={r.lane} />{' '}
                <span className={`guide-fit guide-fit-${r.fit}`}>{FIT_SAID[r.fit]}</span>{' '}
                <span className="guide-score">score {r.score > 0 ? `+${r.score}` : r.score}</span>
              </summary>
              <h4>Why</h4>
              <ul className="guide-reasons">
                {r.reasons.map((reason) => (
                  <li key={reason.text} data-weight={reason.weight}>
                    <span className="guide-sign" aria-hidden="true">
                      {reason.weight > 0 ? '+' : '−'}
                    </span>
                    <span className="visually-hidden">{reason.weight > 0 ? 'For: ' : 'Against: '}</span>{' '}
                    {reason.text}
                  </li>
                ))}
              </ul>
              <h4>How it fails</h4>
              <ul>
                {r.failureModes.map((mode) => (
                  <li key={mode}>{mode}</li>
                ))}
              </ul>
              <h4>What you must build</h4>
              <ul>
                {r.mustBuild.map((id) => (
                  <li key={id}>
                    <strong>{SAFEGUARDS[id].title}</strong>: {SAFEGUARDS[id].what}
                  </li>
                ))}
              </ul>
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
