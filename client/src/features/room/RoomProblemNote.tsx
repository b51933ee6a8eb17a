import { appStore, useAppStore } from '../../store/index.ts';
import { problemText, type RoomAction } from '../../store/room-slice.ts';

const ACTION_WORDS: Record<RoomAction, string> = {
  create: 'Could not create the room',
  join: 'Could not join',
  scenario: 'Could not change the scenario',
  start: 'Could not start the race',
  fault: 'Could not send the fault',
  end: 'Could not end the room',
  leave: 'Could not leave',
  result: 'Could not send your result',
  clock: 'Could not report your clock',
};

/** The last refusal, in words and with its code, read out at once (role="alert"). */
export function RoomProblemNote() {
  const problem = useAppStore((s) => s.room.problem);
  if (!problem) return null;
  const words = problemText(problem);
  // The server's own message, unless it only says what the words above already say.
  const detail = problem.message && !words.startsWith(problem.message) ? problem.message : undefined;
  return (
    <div className="room-problem" role="alert" data-testid="room-problem" data-code={problem.code}>
      <p>
        <strong>{ACTION_WORDS[problem.action]}:</strong> {words}{' '}
        <code className="room-problem-code">{problem.code}</code>
      </p>
      {detail ? <p className="room-problem-detail">{detail}</p> : null}
      <button type="button" className="button small" onClick={() => appStore.getState().dismissRoomProblem()}>
        Dismiss
      </button>
    </div>
  );
}
