import {
  SERVER_VIEW_MAX_AGE_MS,
  SERVER_VIEW_REFRESH_MS,
  type ServerView,
} from '@transport-lab/shared/server-view';
import { useEffect, useRef, useState } from 'react';

/** Live refreshes at most, per race: a task lasts 2 minutes at most (TASK_LIMITS), so 150 s of them. */
export const MAX_LIVE_TICKS = 150;

export interface ServerViewState {
  view: ServerView | undefined;
  error: string | undefined;
  /** Asks now (the Refresh button). */
  refresh(): void;
}

/**
 * The server's view, asked for once when shown, then every SERVER_VIEW_REFRESH_MS while `live` (a
 * race runs) and once more after it stops being live (the race's final figures). Never two requests
 * at once: a tick while one is on its way is skipped. Nothing is asked while no race runs, so an idle
 * page costs the server nothing.
 */
export function useServerView(live: boolean, load: () => Promise<ServerView>): ServerViewState {
  const [view, setView] = useState<ServerView | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const inFlight = useRef(false);
  const mounted = useRef(true);
  const loadRef = useRef(load);
  loadRef.current = load;

  const ask = useRef(() => {
    if (inFlight.current) return;
    inFlight.current = true;
    loadRef
      .current()
      .then(
        (next) => {
          if (!mounted.current) return;
          setView(next);
          setError(undefined);
        },
        (reason: unknown) => {
          if (mounted.current) setError(reason instanceof Error ? reason.message : String(reason));
        },
      )
      .finally(() => {
        inFlight.current = false;
      });
  }).current;

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  // Once when shown, and every second while live. When a race ends, once more a served view's age
  // later: the server serves one view for SERVER_VIEW_MAX_AGE_MS, so only a request that late is sure
  // to get one built after the race's last task ended.
  const wasLive = useRef(false);
  useEffect(() => {
    const ended = wasLive.current && !live;
    wasLive.current = live;
    if (ended) {
      const timer = setTimeout(ask, SERVER_VIEW_MAX_AGE_MS);
      return () => clearTimeout(timer);
    }
    ask();
    if (!live) return;
    let ticks = 0;
    const timer = setInterval(() => {
      ask();
      // A race whose end never comes (a phone that never reports) is not polled for ever.
      if (++ticks >= MAX_LIVE_TICKS) clearInterval(timer);
    }, SERVER_VIEW_REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, ask]);

  return { view, error, refresh: ask };
}
