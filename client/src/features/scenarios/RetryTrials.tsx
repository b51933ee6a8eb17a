import type { RetryTrial } from './checks-lessons.ts';

/**
 * The retried-POST experiment's figures, one row a try: what the page sent, what the server received and
 * created (its own count), and how the last attempt was answered. A table, so that a screen reader reads
 * each figure with its column's name.
 */
export function RetryTrials({ trials }: { trials: RetryTrial[] }) {
  return (
    // The wire comparison's table style, scrolled sideways on a phone rather than squeezed.
    <div className="table-scroll">
      <table className="wire-table retry-trials" data-testid="retry-trials">
        <caption>Each try: the first answer lost, then one retry</caption>
        <thead>
          <tr>
            <th scope="col">Try</th>
            <th scope="col">POSTs the page sent</th>
            <th scope="col">POSTs the server received</th>
            <th scope="col">Tasks the server created</th>
            <th scope="col">Last answer</th>
          </tr>
        </thead>
        <tbody>
          {trials.map((trial) => (
            <tr key={String(trial.withKey)} data-with-key={trial.withKey}>
              <th scope="row">{trial.withKey ? 'With Idempotency-Key' : 'Without a key'}</th>
              <td>{trial.pageRequests}</td>
              <td>{trial.serverRequests ?? 'not counted'}</td>
              <td data-testid="tasks-created">{trial.tasksCreated ?? 'not counted'}</td>
              <td>
                {'error' in trial.answer
                  ? `none (${trial.answer.error})`
                  : `${trial.answer.status}${trial.answer.replayed ? ', Idempotent-Replayed: true' : ''}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
