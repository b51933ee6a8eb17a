import type { WebhookAttack } from '@transport-lab/shared';

const COPY: Record<WebhookAttack['kind'], string> = {
  'tampered-body': 'Body altered, captured signature',
  'wrong-secret': 'Signed with a made-up secret',
  replayed: 'Captured delivery, re-sent as it was',
  'stale-timestamp': 'Signed 6 min ago, unseen id',
};

/** The forged-webhook experiment: each copy an attacker sent the receiver, and its answer, one row each. */
export function WebhookAttacks({ attacks }: { attacks: WebhookAttack[] }) {
  return (
    <div className="table-scroll">
      <table className="wire-table webhook-attacks" data-testid="webhook-attacks">
        <caption>What an attacker sent this lab's receiver, and how it answered</caption>
        <thead>
          <tr>
            <th scope="col">Copy</th>
            <th scope="col">webhook-id</th>
            <th scope="col">Receiver's answer</th>
          </tr>
        </thead>
        <tbody>
          {attacks.map((a) => (
            <tr key={a.kind} data-kind={a.kind}>
              <th scope="row">{COPY[a.kind]}</th>
              <td>
                <code>{a.webhookId}</code>
              </td>
              <td data-testid="attack-answer">
                {a.httpStatus ?? 'none'}
                {a.duplicate ? ', duplicate: not processed again' : ''}
                {a.message ? ` (${a.message})` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
