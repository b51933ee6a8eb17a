import { LANES, type RoomScenario } from '@transport-lab/shared';
import type { CSSProperties } from 'react';

/** The room's race in words: the task, its lanes (colour, mark and name) and the lane settings. */
export function ScenarioSummary({ scenario }: { scenario: RoomScenario }) {
  const { spec, lanes, laneSettings } = scenario;
  return (
    <dl className="room-scenario" data-testid="room-scenario">
      <div>
        <dt>Task</dt>
        <dd className="num">
          {spec.durationMs} ms, {spec.steps} {spec.steps === 1 ? 'step' : 'steps'}
          {spec.failAtStep === undefined ? '' : `, fails at step ${spec.failAtStep}`}
        </dd>
      </div>
      <div>
        <dt>Lanes</dt>
        <dd>
          <ul className="room-lane-chips">
            {lanes.map((id) => (
              <li
                key={id}
                className="lane-label"
                style={{ '--lane-color': LANES[id].color } as CSSProperties}
              >
                <span className="lane-swatch" aria-hidden="true" />
                <span className="lane-mark" aria-hidden="true">
                  {LANES[id].mark}
                </span>
                <span>{LANES[id].name}</span>
              </li>
            ))}
          </ul>
        </dd>
      </div>
      <div>
        <dt>Lane settings</dt>
        <dd className="num">
          {[
            `poll every ${laneSettings.pollIntervalMs === undefined ? 'Retry-After' : `${laneSettings.pollIntervalMs} ms`}`,
            `long poll held ${laneSettings.longPollWaitMs} ms`,
            `hybrid waits ${laneSettings.hybridWaitS} s, then ${LANES[laneSettings.hybridPushLane].name}`,
          ].join('; ')}
        </dd>
      </div>
    </dl>
  );
}
