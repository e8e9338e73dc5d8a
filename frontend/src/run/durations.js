// How long something took, as people read it: one definition for the run view's tool
// cards and the comparison's run and turn times. Pure, so it runs anywhere (node too).

/**
 * A duration in milliseconds: "850 ms", "2.4 s", "12 s", "3 min 5 s", "2 h 5 min"; ""
 * when unknown. Rounded once to the unit shown, so 119.6 s reads "2 min", not "1 min 60 s".
 */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  if (ms < 9950) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}
