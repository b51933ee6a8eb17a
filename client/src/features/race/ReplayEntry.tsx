import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { appStore } from '../../store/index.ts';
import type { BundledRecording, OpenResult } from '../replay/open.ts';

type ReplayModule = typeof import('../replay/index.ts');
/** The replay's chunk, fetched once when a recording is first asked for. */
const loadReplay = (): Promise<ReplayModule> => import('../replay/index.ts');

/** The address parameter naming a recording to replay: `?replay=recordings/all-lanes.json`. */
export const REPLAY_PARAM = 'replay';

interface Opened {
  /** A new key, a new playback. */
  key: string;
  view(onLeave: () => void): ReactNode;
}

let openings = 0;

function setReplayParam(url: string | undefined): void {
  const address = new URL(location.href);
  if (url === undefined) address.searchParams.delete(REPLAY_PARAM);
  else address.searchParams.set(REPLAY_PARAM, url);
  history.replaceState(history.state, '', address.href);
}

/**
 * Opens a recorded race (a file picked or dropped on the page, `?replay=<url>`, or one of the bundled
 * "Recorded races") and, once one is open, the replay's banner and controls. A file refused is said
 * in an alert and changes nothing: a replay already open goes on.
 */
export function ReplayEntry() {
  const [opened, setOpened] = useState<Opened | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [bundled, setBundled] = useState<BundledRecording[] | string | undefined>();
  const fileRef = useRef<HTMLInputElement>(null);

  const open = useCallback(
    async (read: (m: ReplayModule) => Promise<OpenResult>, source: string, url?: string) => {
      let replay: ReplayModule;
      try {
        replay = await loadReplay();
      } catch (error) {
        setProblem(
          `The replay could not be loaded (${error instanceof Error ? error.message : String(error)}).`,
        );
        return;
      }
      const result = await read(replay);
      if (!result.ok) {
        setProblem(result.message);
        return;
      }
      setProblem(undefined);
      setReplayParam(url);
      const key = `${++openings}`;
      if (result.kind === 'room') {
        // A room's race: the store's own race is not the room's, so it goes back to live first.
        appStore.getState().leaveRecording();
        const rec = replay.prepareRoomRecording(result.data, source);
        setOpened({
          key,
          view: (onLeave) => <replay.RoomReplayView key={key} rec={rec} onLeave={onLeave} />,
        });
      } else {
        const rec = replay.prepareRecording(result.data, source);
        setOpened({ key, view: (onLeave) => <replay.ReplayView key={key} rec={rec} onLeave={onLeave} /> });
      }
    },
    [],
  );

  const openFile = useCallback(
    (file: File) => void open(async (m) => m.readRecording(await file.text(), file.name), file.name),
    [open],
  );

  const openUrl = useCallback((url: string) => void open((m) => m.fetchRecording(url), url, url), [open]);

  // `?replay=<url>` as the page opened.
  useEffect(() => {
    const url = new URLSearchParams(location.search).get(REPLAY_PARAM);
    if (url) openUrl(url);
  }, [openUrl]);

  // A file dropped anywhere on the page.
  useEffect(() => {
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') === true;
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      const file = e.dataTransfer?.files[0];
      if (file) openFile(file);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, [openFile]);

  const listBundled = async (open: boolean) => {
    if (!open || Array.isArray(bundled)) return;
    try {
      const replay = await loadReplay();
      setBundled(await replay.fetchBundledIndex(new URL('recordings/index.json', document.baseURI).href));
    } catch (error) {
      setBundled(
        `No recorded races could be listed (${error instanceof Error ? error.message : String(error)}).`,
      );
    }
  };

  const leave = () => {
    setOpened(undefined);
    setReplayParam(undefined);
    appStore.getState().leaveRecording();
  };

  return (
    <>
      <div className="replay-entry">
        <button type="button" className="button secondary small" onClick={() => fileRef.current?.click()}>
          Open a recording…
        </button>
        <input
          ref={fileRef}
          type="file"
          accept="application/json,.json"
          hidden
          data-testid="replay-file"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (file) openFile(file);
          }}
        />
        <span className="hint">or drop a race's JSON export on the page</span>
        <details className="replay-bundled" onToggle={(e) => void listBundled(e.currentTarget.open)}>
          <summary className="replay-bundled-summary">Recorded races</summary>
          {bundled === undefined ? (
            <p className="hint">Loading the list…</p>
          ) : typeof bundled === 'string' ? (
            <p className="hint">{bundled}</p>
          ) : bundled.length === 0 ? (
            <p className="hint">This build carries no recorded races.</p>
          ) : (
            <ul>
              {bundled.map((r) => (
                <li key={r.file}>
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => openUrl(new URL(`recordings/${r.file}`, document.baseURI).pathname)}
                  >
                    {r.title}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </details>
      </div>
      {problem ? (
        <p className="replay-problem" role="alert" data-testid="replay-problem">
          {problem}
        </p>
      ) : null}
      {opened?.view(leave)}
    </>
  );
}
