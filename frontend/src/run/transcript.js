// Folds run events into what the run view shows.
// Event shapes: studio/runs/events.py (the envelope and one data schema per type).
//
// The state is mutable so that folding stays linear in the number of events: each event
// changes it in place in O(1) amortized time (no copy of the item list or of a set per
// event), and `version` counts the changes, so a view can fold every event as it arrives
// and re-render once per animation frame. Items themselves are never edited: an item that
// changes (a tool card getting its result) is replaced by a new object, so rows can be
// memoized by identity. Only rare events (a resumed run, a delivered interjection) touch
// more than a few entries.

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
    graph: emptyGraph(),
    version: 0,
    // call id -> the tools item whose call waits for its result
    openCalls: new Map(),
    // "user\ncontent" -> the queued interjection line a delivered message replaces
    queuedInterjections: new Map(),
  };
}

/** Applies one event in place; returns the state. Discarded and unknown events change nothing. */
export function applyEvent(state, event) {
  if (event.discarded) return state;
  const handler = HANDLERS[event.type];
  if (!handler) return state;
  handler(state, event);
  state.version += 1;
  return state;
}

/** Applies events in order; returns the state. */
export function foldEvents(state, events) {
  for (const event of events) applyEvent(state, event);
  return state;
}

/** A problem the page itself ran into (a refused frame, a failed request). */
export function addLocalError(state, message) {
  state.errorCount += 1;
  state.items.push({ kind: "error", content: message });
  state.version += 1;
  return state;
}

// --- the conversation graph: who spoke after whom, and who handed off to whom ---

function emptyGraph() {
  // nodes: name -> { name, turns }
  // edges: "from\u0000to" -> { key, from, to, count, handoffs, lastSeq }
  return { nodes: new Map(), edges: new Map(), previous: null, lastEdge: null };
}

function graphNode(graph, name) {
  let node = graph.nodes.get(name);
  if (!node) {
    node = { name, turns: 0 };
    graph.nodes.set(name, node);
  }
  return node;
}

function graphEdge(graph, from, to, seq, isHandoff) {
  const key = `${from}\u0000${to}`;
  let edge = graph.edges.get(key);
  if (!edge) {
    edge = { key, from, to, count: 0, handoffs: 0, lastSeq: 0 };
    graph.edges.set(key, edge);
  }
  edge.count += 1;
  if (isHandoff) edge.handoffs += 1;
  edge.lastSeq = seq ?? edge.lastSeq;
  graph.lastEdge = key;
}

/** Someone spoke: an edge from the previous speaker lights up. */
function graphSpoke(graph, source, seq) {
  if (!source) return;
  graphNode(graph, source).turns += 1;
  if (graph.previous && graph.previous !== source) {
    graphEdge(graph, graph.previous, source, seq, false);
  }
  graph.previous = source;
}

/** `source` handed the conversation to `target`: the handoff is the edge between them. */
function graphHandedOff(graph, source, target, seq) {
  graphSpoke(graph, source, seq);
  if (!target) return;
  graphNode(graph, target);
  graphEdge(graph, source, target, seq, true);
  graph.previous = target;
}

// --- helpers ---

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

function timeOf(value) {
  const moment = Date.parse(value);
  return Number.isNaN(moment) ? null : moment;
}

/** Ends the live stream of message `id` (or of `source` when chunks had no id). */
function closeStream(state, id, source) {
  if (id && state.streams[id]) delete state.streams[id];
  else if (state.streams[source]) delete state.streams[source];
  if (id) state.finishedIds.add(id);
}

function countTurn(state, source) {
  if (!source) return;
  state.speaker = source;
  state.turns[source] = (state.turns[source] || 0) + 1;
}

/** Puts `next` where `previous` is; items change near the end, so the search is short. */
function replaceItem(state, previous, next) {
  const { items } = state;
  for (let i = items.length - 1; i >= 0; i -= 1) {
    if (items[i] === previous) {
      items[i] = next;
      return true;
    }
  }
  return false;
}

function interjectionKey(user, content) {
  return `${user}\n${content}`;
}

/** A delivered interjection replaces its "queued" line. */
function dropQueuedInterjection(state, source, content) {
  if (!state.queuedInterjections.size) return;
  const key = interjectionKey(source, content);
  const queued = state.queuedInterjections.get(key);
  if (!queued) return;
  state.queuedInterjections.delete(key);
  const index = state.items.lastIndexOf(queued);
  if (index >= 0) state.items.splice(index, 1);
}

// --- one handler per event type; each changes the state in place ---

function applyMessage(state, event) {
  const data = dataOf(event);
  const source = event.source || "";
  const content = textOf(data.content);
  closeStream(state, data.id, source);
  dropQueuedInterjection(state, source, content);
  const isFromPerson = state.people.has(source);
  state.items.push({
    kind: "message",
    id: data.id,
    seq: event.seq,
    at: event.at,
    source,
    messageType: isFromPerson ? "Interjection" : data.kind || "TextMessage",
    content,
    isEdited: Boolean(data.edited),
    isFromPerson,
  });
  if (!isFromPerson) countTurn(state, source);
  graphSpoke(state.graph, source, event.seq);
}

function applyChunk(state, event) {
  const data = dataOf(event);
  if (data.full_message_id && state.finishedIds.has(data.full_message_id)) return;
  const source = event.source || "";
  const key = data.full_message_id || source;
  const previous = state.streams[key];
  const text = (previous ? previous.text : "") + textOf(data.content);
  state.speaker = source || state.speaker;
  state.streams[key] = { key, source, text };
}

function applyToolCall(state, event) {
  const item = {
    kind: "tools",
    seq: event.seq,
    at: event.at,
    source: event.source || "",
    calls: listOf(dataOf(event).calls).map((call) => ({
      id: call.id,
      name: call.name,
      arguments: call.arguments,
      result: null,
      durationMs: null,
    })),
  };
  state.items.push(item);
  for (const call of item.calls) state.openCalls.set(call.id, item);
}

/** Puts each result on the card of its call; results with no matching call get a card. */
function applyToolResult(state, event) {
  const data = dataOf(event);
  const durations = listOf(data.durations_ms);
  const finishedAt = timeOf(event.at);
  const orphans = [];
  listOf(data.results).forEach((result, position) => {
    const measured = Number(durations[position]);
    const item = state.openCalls.get(result.call_id);
    const index = item ? item.calls.findIndex((c) => c.id === result.call_id && !c.result) : -1;
    let durationMs = Number.isFinite(measured) ? measured : null;
    if (index < 0) {
      orphans.push({ id: result.call_id, name: result.name, arguments: null, result, durationMs });
      return;
    }
    // Older events carry no durations: the time between the call and its result is close.
    const startedAt = timeOf(item.at);
    if (durationMs === null && startedAt !== null && finishedAt !== null) {
      durationMs = Math.max(0, finishedAt - startedAt);
    }
    const calls = item.calls.slice();
    calls[index] = { ...calls[index], result, durationMs };
    const next = { ...item, calls };
    replaceItem(state, item, next);
    state.openCalls.delete(result.call_id);
    for (const call of calls) {
      if (!call.result && state.openCalls.get(call.id) === item) state.openCalls.set(call.id, next);
    }
  });
  if (orphans.length) {
    const source = event.source || "";
    state.items.push({ kind: "tools", seq: event.seq, at: event.at, source, calls: orphans });
  }
}

function applyUsage(state, event) {
  const data = dataOf(event);
  const promptTokens = state.usage.promptTokens + (Number(data.prompt_tokens) || 0);
  const completionTokens = state.usage.completionTokens + (Number(data.completion_tokens) || 0);
  state.usage = {
    promptTokens,
    completionTokens,
    totalTokens: Number(data.total_tokens) || promptTokens + completionTokens,
    costUsd: Number(data.total_cost_usd) || state.usage.costUsd + (Number(data.cost_usd) || 0),
  };
}

/** Rebuilds what is derived from the items (turns, graph, open calls) after items were dropped. */
function rederive(state) {
  state.turns = {};
  state.graph = emptyGraph();
  state.openCalls = new Map();
  state.queuedInterjections = new Map();
  for (const item of state.items) {
    if (item.kind === "message") {
      if (!item.isFromPerson) countTurn(state, item.source);
      graphSpoke(state.graph, item.source, item.seq);
    } else if (item.kind === "handoff") {
      countTurn(state, item.source);
      graphHandedOff(state.graph, item.source, item.target, item.seq);
    } else if (item.kind === "tools") {
      for (const call of item.calls) if (!call.result) state.openCalls.set(call.id, item);
    } else if (item.kind === "interjection") {
      state.queuedInterjections.set(interjectionKey(item.user, item.content), item);
    }
  }
}

/** Drops what a failed attempt produced: seqs discarded_from … discarded_to. */
function applyResumed(state, event) {
  const data = dataOf(event);
  const from = Number(data.discarded_from);
  const to = Number(data.discarded_to);
  state.streams = {};
  if (Number.isFinite(from) && Number.isFinite(to) && from <= to) {
    const isKept = (item) => !(item.seq >= from && item.seq <= to);
    if (state.pendingInput && !isKept(state.pendingInput)) state.pendingInput = null;
    state.items = state.items.filter(isKept);
    rederive(state);
  }
  state.items.push({
    kind: "notice",
    seq: event.seq,
    content: `The run resumed from its last checkpoint${data.reason ? ` (${data.reason})` : ""}.`,
  });
}

function applyFinished(state, event) {
  const data = dataOf(event);
  const promptTokens = Number(data.prompt_tokens) || 0;
  const completionTokens = Number(data.completion_tokens) || 0;
  state.status = data.status || state.status;
  state.stopReason = data.stop_reason || state.stopReason;
  state.pendingInput = null;
  state.streams = {};
  state.usage = {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    costUsd: Number(data.cost_usd) || 0,
  };
}

function applyStatus(state, event) {
  const data = dataOf(event);
  const isWaiting = data.status === "awaiting_input";
  state.status = data.status || state.status;
  if (!FINAL_STATUSES.has(data.status)) state.stopReason = "";
  if (!isWaiting) state.pendingInput = null;
}

function applyHandoff(state, event) {
  const data = dataOf(event);
  const source = event.source || "";
  const target = data.target || "";
  closeStream(state, data.id, source);
  state.items.push({
    kind: "handoff",
    seq: event.seq,
    at: event.at,
    source,
    target,
    content: textOf(data.content),
  });
  countTurn(state, source);
  graphHandedOff(state.graph, source, target, event.seq);
}

function applyInputRequested(state, event) {
  const data = dataOf(event);
  const timeout = Number(data.timeout_seconds);
  state.pendingInput = {
    seq: event.seq,
    at: event.at,
    requestId: data.request_id,
    prompt: textOf(data.prompt),
    source: event.source || "",
    askedBy: textOf(data.asked_by),
    question: textOf(data.question),
    timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : null,
  };
}

function applyInterjection(state, event) {
  const data = dataOf(event);
  const user = data.user || event.source || "";
  const content = textOf(data.content);
  state.people.add(user);
  const item = { kind: "interjection", seq: event.seq, at: event.at, user, content };
  state.items.push(item);
  state.queuedInterjections.set(interjectionKey(user, content), item);
}

const HANDLERS = {
  "run.status": applyStatus,
  message: applyMessage,
  "message.chunk": applyChunk,
  thought: (state, event) => {
    state.items.push({
      kind: "thought",
      seq: event.seq,
      at: event.at,
      source: event.source || "",
      content: textOf(dataOf(event).content),
    });
  },
  "tool.call": applyToolCall,
  "tool.result": applyToolResult,
  handoff: applyHandoff,
  "speaker.selected": (state, event) => {
    const speakers = listOf(dataOf(event).speakers);
    state.items.push({ kind: "speaker", seq: event.seq, speakers });
  },
  "input.requested": applyInputRequested,
  "input.provided": (state, event) => {
    const data = dataOf(event);
    if (state.pendingInput && state.pendingInput.requestId !== data.request_id) return;
    state.pendingInput = null;
  },
  interjection: applyInterjection,
  usage: applyUsage,
  error: (state, event) => {
    const data = dataOf(event);
    state.items.push({ kind: "error", seq: event.seq, content: textOf(data.message || data.code) });
  },
  "run.resumed": applyResumed,
  "run.finished": applyFinished,
};
