/** Figures as the guide's sentences say them: "45 s", "5 min", "1,000". */
export const seconds = (ms: number) =>
  ms >= 3_600_000
    ? `${+(ms / 3_600_000).toFixed(1)} h`
    : ms >= 60_000
      ? `${+(ms / 60_000).toFixed(1)} min`
      : ms >= 1_000
        ? `${+(ms / 1_000).toFixed(1)} s`
        : `${Math.round(ms)} ms`;
export const count = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : `${+n.toFixed(1)}`);
