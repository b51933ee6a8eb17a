import { LANES, type RoomFault } from '@transport-lab/shared';
import { appStore, useAppStore } from '../../store/index.ts';

interface Choice {
  label: string;
  fault: RoomFault;
}

/**
 * The presenter's faults for everyone: during the room's race, each audience page applies the fault
 * to its own run, on its own network. Presenter only; the server refuses anyone else.
 */
export function RoomFaults() {
  // The race itself, not `lanes ?? []`: a selector must return the same value while nothing changed.
  const race = useAppStore((s) => s.room.race);
  const lanes = race?.scenario.lanes ?? [];
  const racing = useAppStore((s) => {
    const { race, progress } = s.room;
    return race !== undefined && (progress?.reported ?? 0) < race.expected;
  });
  const pending = useAppStore((s) => s.room.pending !== undefined);
  const choices: Choice[] = [
    ...lanes.map((lane) => ({
      label: `Drop ${LANES[lane].name} connections`,
      fault: { kind: 'drop-connections', lane } as const,
    })),
    ...(lanes.includes('webhook')
      ? [
          {
            label: 'Receiver answers 503 (×3)',
            fault: { kind: 'receiver', mode: 'unavailable-503', retryAfterS: 1, count: 3 } as const,
          },
        ]
      : []),
    { label: 'Slow downstream (10 s)', fault: { kind: 'slow-downstream', stallMs: 10_000 } },
    { label: 'Buffering proxy', fault: { kind: 'buffer-streams', on: true } },
  ];
  return (
    <section className="room-faults" aria-labelledby="room-faults-title">
      <h3 id="room-faults-title">Faults for everyone</h3>
      <p className="hint">
        {racing
          ? 'Each phone applies the fault to its own race, on its own network.'
          : 'Start a race for everyone to inject faults into it.'}
      </p>
      <div className="actions">
        {choices.map(({ label, fault }) => (
          <button
            key={label}
            type="button"
            className="button"
            disabled={!racing || pending}
            onClick={() => void appStore.getState().injectFaultForEveryone(fault)}
          >
            {label}
          </button>
        ))}
      </div>
    </section>
  );
}
