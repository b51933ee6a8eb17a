import type { Participant } from '@transport-lab/shared';
import { memo } from 'react';
import { useAppStore } from '../../store/index.ts';
import { participantLabel } from '../../store/room-slice.ts';
import { clockText } from './format.ts';

const DEVICE_WORDS = { phone: 'Phone', tablet: 'Tablet', desktop: 'Desktop' } as const;

/** Who is here: name, device class, clock offset ± uncertainty, round trip, connected or away. */
export function PresenceList() {
  const participants = useAppStore((s) => s.room.participants);
  const self = useAppStore((s) => s.room.self);
  const max = useAppStore((s) => s.room.maxParticipants);
  const connected = participants.filter((p) => p.connected).length;
  const devices = countDevices(participants);
  return (
    <section className="room-presence" aria-labelledby="room-presence-title">
      <h2 id="room-presence-title" className="section-title">
        Who is here
      </h2>
      <p className="room-presence-summary" data-testid="room-presence-summary">
        <span className="num">{participants.length}</span> in the room,{' '}
        <span className="num">{connected}</span> connected{max === undefined ? '' : ` (at most ${max})`}
        {devices ? `: ${devices}` : ''}
      </p>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a long list scrolls; a keyboard must reach it */}
      <section className="table-scroll room-presence-scroll" tabIndex={0} aria-label="Who is here">
        <table className="room-table" data-testid="room-presence">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Device</th>
              <th scope="col" className="num">
                Clock offset
              </th>
              <th scope="col" className="num">
                Round trip
              </th>
              <th scope="col">Connected</th>
            </tr>
          </thead>
          <tbody>
            {participants.map((p) => (
              <PresenceRow key={p.id} participant={p} self={p.id === self} />
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
}

function countDevices(participants: readonly Participant[]): string {
  const counts = new Map<string, number>();
  for (const p of participants) counts.set(p.device, (counts.get(p.device) ?? 0) + 1);
  return [...counts].map(([device, n]) => `${n} ${device}${n === 1 ? '' : 's'}`).join(', ');
}

/** One person's row; re-rendered only when their own entry changes (a join in a room of 500 is one row). */
const PresenceRow = memo(function PresenceRow({
  participant: p,
  self,
}: {
  participant: Participant;
  self: boolean;
}) {
  return (
    <tr data-testid="room-participant" data-connected={p.connected}>
      <th scope="row">
        {/* A name is text, never markup: React escapes it. */}
        {participantLabel(p)}
        {self ? ' (you)' : ''}
        {p.role === 'presenter' ? <span className="room-role"> presenter</span> : null}
      </th>
      <td>{DEVICE_WORDS[p.device]}</td>
      <td className="num">{clockText(p.clock)}</td>
      <td className="num">{p.clock ? `${p.clock.rttMs.toFixed(1)} ms` : '—'}</td>
      <td>
        <span className="room-dot" data-connected={p.connected} aria-hidden="true" />
        {p.connected ? 'yes' : 'away'}
      </td>
    </tr>
  );
});
