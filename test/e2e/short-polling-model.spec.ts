import { API_PATHS, LANE_IDS, TaskResponse } from '@transport-lab/shared';
import { NetworkLog } from '../fixtures/networkLog.ts';
import { toMs } from '../fixtures/racePage.ts';
import { expect, test } from '../fixtures/test.ts';

const INTERVAL_MS = 600;
const RACES = 50;
/** One frame at 60 Hz, ms: the least a frame lasts; a loaded machine stretches some frames. */
const FRAME_MS = 1_000 / 60;
/*
 * The page's figure is checked twice: within the showing frame + 2 ms of the moment the test itself
 * sees the card turn `succeeded` (a DOM observer's timestamp: what "shown" means), and never before
 * Chromium received the answer that said so. How many frames after receipt it shows (1 to 2 on a quiet
 * machine) is the page's speed, measured by the benchmark (docs/benchmarks.md), not bounded here.
 */

test.setTimeout(240_000);
// A trace records the page at every step: load on the very main thread whose delays are measured.
test.use({ trace: 'off' });

test(`short polling every ${INTERVAL_MS} ms: completion lag over ${RACES} races is I/2 + one round trip ± 10 %, and each figure is within one frame + 2 ms of when the test saw it shown`, async ({
  racePage,
}) => {
  const page = racePage.page;
  const log = await NetworkLog.attach(page);
  await racePage.goto();
  await page.getByLabel('Poll interval (ms)', { exact: true }).fill(String(INTERVAL_MS));
  // The page's frames, as the page itself paces them: "one frame" is the frame that was running when
  // the answer arrived, whatever its length (at least 1/60 s).
  await page.evaluate(() => {
    const frames: number[] = [];
    (window as unknown as { __frames: number[] }).__frames = frames;
    const tick = (at: number) => {
      frames.push(performance.timeOrigin + at);
      if (frames.length > 20_000) frames.splice(0, 10_000);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });

  // Task lengths spread evenly over one polling period (shuffled), so that where the end falls between
  // two polls is uniform, as the model assumes; a random draw would need far more races for ±10 %.
  const durations = Array.from(
    { length: RACES },
    (_, k) => 600 + Math.round(((k + 0.5) * INTERVAL_MS) / RACES),
  );
  durations.sort(() => Math.random() - 0.5);

  const lags: number[] = [];
  const roundTrips: number[] = [];
  const mismatches: string[] = [];
  /** The test's showing minus the page's figure, ms: how far the page's frame time is from the DOM change. */
  const shownGaps: number[] = [];
  for (const durationMs of durations) {
    await racePage.configure({ durationMs, steps: 1, lanes: ['short-polling'] });
    for (const other of LANE_IDS.filter((id) => id !== 'short-polling')) {
      await racePage.laneToggle(other).uncheck();
    }
    log.clear();
    // Watched from before the click, on DOM mutations only: the card must leave its last state and
    // reach `succeeded` again. (Playwright's own polling runs on the page's main thread and would
    // itself delay what is measured.)
    const finished = page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const card = document.querySelector('[data-testid="lane-card-short-polling"]');
          let left = false;
          const observer = new MutationObserver(() => {
            const status = card?.getAttribute('data-status');
            if (status !== 'succeeded') left = true;
            else if (left) {
              observer.disconnect();
              // A mutation observer runs as a microtask right after the DOM change: the showing.
              resolve(performance.timeOrigin + performance.now());
            }
          });
          if (card) observer.observe(card, { attributes: true, attributeFilter: ['data-status'] });
        }),
    );
    await racePage.startButton.click();
    const seenAt = await finished;
    const card = racePage.card('short-polling');
    // The figure itself may come a render later than the status; the measurement is over by now.
    const lagText = card.getByTestId('metric-completion-lag');
    await expect(lagText).toHaveText(/^\s*\d[\d.,]*\s*ms\s*$/);
    const raw = (await lagText.textContent()) ?? '';
    const shown = toMs(raw);
    lags.push(shown);

    const polls = log.matching(
      (url, req) => req.method === 'GET' && /^\/api\/tasks\/[^/]+$/.test(url.pathname),
    );
    const last = polls.at(-1);
    if (!last?.answeredAt || last.sentAt === undefined) throw new Error('no final poll in the network log');
    for (const poll of polls)
      if (poll.answeredAt && poll.sentAt) roundTrips.push(poll.answeredAt - poll.sentAt);
    const taskPath = new URL(last.url).pathname;
    const { task } = TaskResponse.parse(await (await page.request.get(taskPath)).json());
    expect(taskPath).toBe(API_PATHS.task(task.id));
    const finishedAt = task.finishedAt ?? Number.NaN;
    // The test's own figures: from the server's finish to the card turning `succeeded`, and to
    // Chromium receiving the answer that said so.
    const seen = seenAt - finishedAt;
    const received = last.answeredAt - finishedAt;
    // The length of the frame running at a moment (page clock, epoch ms), from the page's own rAF times.
    const frameAt = (at: number) =>
      page.evaluate((moment) => {
        const frames = (window as unknown as { __frames: number[] }).__frames;
        const next = frames.findIndex((t) => t >= moment);
        return next > 0 ? (frames[next] ?? 0) - (frames[next - 1] ?? 0) : 0;
      }, at);
    const frame = await frameAt(last.answeredAt);
    const oneFrame = Math.max(FRAME_MS, frame);
    // The page stamps "shown" at the start of the frame that renders the answer; the DOM changes when
    // that frame's render commits, so the two differ by at most that frame's own length (a long frame,
    // the page's own busyness, is the page's to disclose, and it does: LoAF in pageBusy).
    const showingFrame = Math.max(FRAME_MS, await frameAt(seenAt));
    const withinShown = Math.abs(shown - seen) <= Math.max(oneFrame, showingFrame) + 2;
    // Causality, not speed: the page cannot show an answer before Chromium received it. How soon after
    // it shows it is the page's own speed, a benchmark's figure (npm run bench, the page's frames), and
    // a slow frame is disclosed by the page itself (pageBusy); a bound here made the suite fail on a 50 ms
    // frame of a loaded machine while the figure stayed true to the DOM within that frame.
    const withinReceipt = shown >= received - 2;
    if (!withinShown || !withinReceipt) {
      mismatches.push(
        `page ${shown} ms vs seen ${seen.toFixed(1)} ms, Chromium ${received.toFixed(1)} ms, frame ${frame.toFixed(1)} ms, showing frame ${showingFrame.toFixed(1)} ms (task ${durationMs} ms)`,
      );
    }
    shownGaps.push(seen - shown);
  }
  await log.detach();

  const mean = lags.reduce((a, b) => a + b, 0) / lags.length;
  const rtt = [...roundTrips].sort((a, b) => a - b)[Math.floor(roundTrips.length / 2)] ?? Number.NaN;
  const model = INTERVAL_MS / 2 + rtt;
  console.log(
    `short polling @${INTERVAL_MS} ms: mean completion lag ${mean.toFixed(1)} ms, model ${model.toFixed(1)} ms (rtt ${rtt.toFixed(1)} ms); ` +
      `test's showing − page's figure: max ${Math.max(...shownGaps).toFixed(1)} ms, min ${Math.min(...shownGaps).toFixed(1)} ms`,
  );
  expect(mismatches, 'page figures vs Chromium timestamps').toEqual([]);
  expect(Math.abs(mean - model)).toBeLessThanOrEqual(0.1 * model);
});
