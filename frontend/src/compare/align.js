// Lines two runs up turn by turn and finds where they first part ways. Pure functions.

/** Transcript item kinds that are turns of the conversation (the rest are status lines). */
const TURN_KINDS = new Set(["message", "tools", "handoff"]);

function squash(text) {
  return String(text ?? "")
    .replace(/\s+/g, " ")
    .trim();
}

/** What must be equal for two turns to count as the same: who, and what they said or did. */
export function turnSignature(item) {
  switch (item.kind) {
    case "message":
      return `message|${item.source}|${squash(item.content)}`;
    case "tools":
      return `tools|${item.source}|${item.calls
        .map((call) => `${call.name}(${squash(JSON.stringify(call.arguments ?? null))})`)
        .join(",")}`;
    case "handoff":
      return `handoff|${item.source}|${item.target}`;
    default:
      return `${item.kind}|${squash(item.content)}`;
  }
}

/** The turns of a folded transcript, each with its model usage when the event had one. */
export function turnsOf(items, usageBySeq = new Map()) {
  return items
    .filter((item) => TURN_KINDS.has(item.kind))
    .map((item) => ({ item, usage: usageBySeq.get(item.seq) || null }));
}

/**
 * How two turns at the same position differ, in words; "" when they do not. `names` are
 * what to call the two runs.
 */
export function describeDifference(left, right, names = ["the first run", "the second run"]) {
  if (!left) return `only ${names[1]} has this turn`;
  if (!right) return `only ${names[0]} has this turn`;
  if (turnSignature(left.item) === turnSignature(right.item)) return "";
  if (left.item.source !== right.item.source) return "a different agent speaks";
  if (left.item.kind !== right.item.kind) return "the same agent does something else";
  return left.item.kind === "tools" ? "different tool calls" : "different words";
}

/**
 * Rows of the two runs' turns side by side, position by position, and the index of the
 * first row where they differ (-1 when they are the same turn for turn).
 */
export function alignTurns(leftTurns, rightTurns, names) {
  const count = Math.max(leftTurns.length, rightTurns.length);
  const rows = [];
  let firstDivergence = -1;
  for (let index = 0; index < count; index += 1) {
    const left = leftTurns[index] || null;
    const right = rightTurns[index] || null;
    const difference = describeDifference(left, right, names);
    if (difference && firstDivergence < 0) firstDivergence = index;
    rows.push({ index, left, right, difference });
  }
  return { rows, firstDivergence };
}

/** Tokens a model used for one turn (prompt + completion), or null when unknown. */
export function turnTokens(usage) {
  if (!usage) return null;
  const total = (Number(usage.prompt_tokens) || 0) + (Number(usage.completion_tokens) || 0);
  return total || null;
}

/** Milliseconds between two ISO instants, or null when either is missing. */
export function spanBetween(start, end) {
  if (!start || !end) return null;
  const span = new Date(end).getTime() - new Date(start).getTime();
  return Number.isFinite(span) ? span : null;
}
