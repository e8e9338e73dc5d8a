// Folds run events into what the run view shows. Pure functions: (state, event) -> state.
// Event shapes: studio/runs/events.py (the envelope and one data schema per type).

export const FINAL_STATUSES = new Set([
  "completed",
  "failed",
  "cancelled",
  "timed_out",
  "budget_exhausted",
]);

/** The view state before any event arrived; `run` holds the page's server-side values. */
export function initialTranscript(run = {}) {
  return {
    status: run.status || "queued",
    stopReason: run.stopReason || "",
    items: [],
    streams: {},
    finishedIds: new Set(),
    pendingInput: null,
    speaker: null,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 },
    turns: {},
    people: new Set(),
    errorCount: 0,
  };
}

function dataOf(event) {
  return event.data && typeof event.data === "object" ? event.data : {};
}

function textOf(value) {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

function listOf(value) {
  return Array.isArray(value) ? value : [];
}

function appendItem(state, item) {
  return { ...state, items: [...state.items, item] };
}

/** Ends the live stream of message `id` (or of `source` when chunks had no id). */
function closeStream(state, id, source) {
  const streams = { ...state.streams };
  if (id && streams[id]) delete streams[id];
  else if (streams[source]) delete streams[source];
  const finishedIds = new Set(state.finishedIds);
  if (id) finishedIds.add(id);
  return { ...state, streams, finishedIds };
}

function countTurn(state, source) {
  if (!source) return state;
  return {
    ...state,
    speaker: source,
    turns: { ...state.turns, [source]: (state.turns[source] || 0) + 1 },
  };
}

/** A delivered interjection replaces its "queued" line. */
function withoutQueuedInterjection(state, source, content) {
  const index = state.items.findIndex(
    (item) => item.kind === "interjection" && item.user === source && item.content === content,
  );
  if (index < 0) return state;
  const items = state.items.slice();
  items.splice(index, 1);
  return { ...state, items };
}

function applyMessage(state, event) {
  const data = dataOf(event);
  const source = event.source || "";
  const content = textOf(data.content);
  const next = withoutQueuedInterjection(closeStream(state, data.id, source), source, content);
  if (state.people.has(source)) {
    return appendItem(next, {
      kind: "message",
      seq: event.seq,
      at: event.at,
      source,
      messageType: "Interjection",
      content,
      isFromPerson: true,
    });
  }
  return countTurn(
    appendItem(next, {
      kind: "message",
      seq: event.seq,
      at: event.at,
      source,
      messageType: data.kind || "TextMessage",
      content,
      isEdited: Boolean(data.edited),
    }),
    source,
  );
}

function applyChunk(state, event) {
  const data = dataOf(event);
  if (data.full_message_id && state.finishedIds.has(data.full_message_id)) return state;
  const source = event.source || "";
  const key = data.full_message_id || source;
  const previous = state.streams[key];
  const text = (previous ? previous.text : "") + textOf(data.content);
  return {
    ...state,
    speaker: source || state.speaker,
    streams: { ...state.streams, [key]: { key, source, text } },
  };
}

function applyToolCall(state, event) {
  const calls = listOf(dataOf(event).calls).map((call) => ({
    id: call.id,
    name: call.name,
    arguments: call.arguments,
    result: null,
  }));
  return appendItem(state, {
    kind: "tools",
    seq: event.seq,
    at: event.at,
    source: event.source || "",
    calls,
  });
}

/** Puts each result on the card of its call; results with no matching call get a card. */
function applyToolResult(state, event) {
  const items = state.items.slice();
  const orphans = [];
  for (const result of listOf(dataOf(event).results)) {
    let isPlaced = false;
    for (let i = items.length - 1; i >= 0 && !isPlaced; i -= 1) {
      const item = items[i];
      if (item.kind !== "tools") continue;
      const index = item.calls.findIndex((call) => call.id === result.call_id && !call.result);
      if (index >= 0) {
        const calls = item.calls.slice();
        calls[index] = { ...calls[index], result };
        items[i] = { ...item, calls };
        isPlaced = true;
      }
    }
    if (!isPlaced) orphans.push(result);
  }
  if (orphans.length) {
    items.push({
      kind: "tools",
      seq: event.seq,
      at: event.at,
      source: event.source || "",
      calls: orphans.map((result) => ({
        id: result.call_id,
        name: result.name,
        arguments: null,
        result,
      })),
    });
  }
  return { ...state, items };
}

function applyUsage(state, event) {
  const data = dataOf(event);
  const promptTokens = state.usage.promptTokens + (Number(data.prompt_tokens) || 0);
  const completionTokens = state.usage.completionTokens + (Number(data.completion_tokens) || 0);
  return {
    ...state,
    usage: {
      promptTokens,
      completionTokens,
      totalTokens: Number(data.total_tokens) || promptTokens + completionTokens,
      costUsd: Number(data.total_cost_usd) || state.usage.costUsd + (Number(data.cost_usd) || 0),
    },
  };
}

/** Drops what a failed attempt produced: seqs discarded_from … discarded_to. */
function applyResumed(state, event) {
  const data = dataOf(event);
  const from = Number(data.discarded_from);
  const to = Number(data.discarded_to);
  let next = { ...state, streams: {} };
  if (Number.isFinite(from) && Number.isFinite(to) && from <= to) {
    const isKept = (item) => !(item.seq >= from && item.seq <= to);
    const dropsInput = state.pendingInput && !isKept(state.pendingInput);
    next = {
      ...next,
      items: state.items.filter(isKept),
      pendingInput: dropsInput ? null : state.pendingInput,
    };
  }
  return appendItem(next, {
    kind: "notice",
    seq: event.seq,
    content: `The run resumed from its last checkpoint${data.reason ? ` (${data.reason})` : ""}.`,
  });
}

function applyFinished(state, event) {
  const data = dataOf(event);
  const promptTokens = Number(data.prompt_tokens) || 0;
  const completionTokens = Number(data.completion_tokens) || 0;
  return {
    ...state,
    status: data.status || state.status,
    stopReason: data.stop_reason || state.stopReason,
    pendingInput: null,
    streams: {},
    usage: {
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      costUsd: Number(data.cost_usd) || 0,
    },
  };
}

const HANDLERS = {
  "run.status": (state, event) => {
    const data = dataOf(event);
    const isWaiting = data.status === "awaiting_input";
    const isFinal = FINAL_STATUSES.has(data.status);
    return {
      ...state,
      status: data.status || state.status,
      stopReason: isFinal ? state.stopReason : "",
      pendingInput: isWaiting || !state.pendingInput ? state.pendingInput : null,
    };
  },
  message: applyMessage,
  "message.chunk": applyChunk,
  thought: (state, event) =>
    appendItem(state, {
      kind: "thought",
      seq: event.seq,
      source: event.source || "",
      content: textOf(dataOf(event).content),
    }),
  "tool.call": applyToolCall,
  "tool.result": applyToolResult,
  handoff: (state, event) => {
    const data = dataOf(event);
    const source = event.source || "";
    const next = closeStream(state, data.id, source);
    return countTurn(
      appendItem(next, {
        kind: "handoff",
        seq: event.seq,
        source,
        target: data.target || "",
        content: textOf(data.content),
      }),
      source,
    );
  },
  "speaker.selected": (state, event) => {
    const speakers = listOf(dataOf(event).speakers);
    return appendItem(state, { kind: "speaker", seq: event.seq, speakers });
  },
  "input.requested": (state, event) => {
    const data = dataOf(event);
    return {
      ...state,
      pendingInput: {
        seq: event.seq,
        requestId: data.request_id,
        prompt: textOf(data.prompt),
        source: event.source || "",
      },
    };
  },
  "input.provided": (state, event) => {
    const data = dataOf(event);
    if (state.pendingInput && state.pendingInput.requestId !== data.request_id) return state;
    return { ...state, pendingInput: null };
  },
  interjection: (state, event) => {
    const data = dataOf(event);
    const user = data.user || event.source || "";
    const people = new Set(state.people);
    people.add(user);
    return appendItem(
      { ...state, people },
      { kind: "interjection", seq: event.seq, user, content: textOf(data.content) },
    );
  },
  usage: applyUsage,
  error: (state, event) => {
    const data = dataOf(event);
    return appendItem(state, {
      kind: "error",
      seq: event.seq,
      content: textOf(data.message || data.code),
    });
  },
  "run.resumed": applyResumed,
  "run.finished": applyFinished,
};

/** Applies one event; discarded events and unknown types change nothing. */
export function applyEvent(state, event) {
  if (event.discarded) return state;
  const handler = HANDLERS[event.type];
  return handler ? handler(state, event) : state;
}
