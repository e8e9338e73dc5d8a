// The builder's state is the team spec itself (the shape of TeamSpec in studio/teams/spec.py,
// whose JSON Schema the catalog serves). Every edit here takes a spec and returns a new one,
// sharing every part it did not change (the canvas relies on that to redraw only what
// changed). A nested team is edited in place: a "scope" is the list of seat indices that
// leads from the top team to it (`[2]` is `participants[2].team`).

/** A plain object for anything (a draft may hold any JSON): participants a list of objects. */
export function normalizeSpec(raw) {
  const spec = isObject(raw) ? { ...raw } : {};
  spec.participants = Array.isArray(spec.participants) ? spec.participants.filter(isObject) : [];
  if (!isObject(spec.layout)) spec.layout = {};
  return spec;
}

export function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Whether two specs hold the same JSON (key order does not matter; an undefined value is an
 * absent key). Parts an edit did not touch are the same objects, so only the changed path is
 * walked.
 */
export function isSameSpec(a, b) {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return (
      Array.isArray(b) && a.length === b.length && a.every((item, i) => isSameSpec(item, b[i]))
    );
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keysOf = (value) => Object.keys(value).filter((key) => value[key] !== undefined);
  const keys = keysOf(a);
  if (keys.length !== keysOf(b).length) return false;
  return keys.every((key) => b[key] !== undefined && isSameSpec(a[key], b[key]));
}

/** A deep copy of JSON. */
export function copyJson(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

export function participantName(participant) {
  return typeof participant.name === "string" ? participant.name : String(participant.name ?? "");
}

function participantsOf(team) {
  return Array.isArray(team?.participants) ? team.participants.filter(isObject) : [];
}

// --- Scopes: nested teams ---

/** The team a scope leads to (the top team for `[]`), or null when it no longer exists. */
export function teamAt(spec, scope) {
  let team = spec;
  for (const seat of scope) {
    const inner = participantsOf(team)[seat];
    if (!inner || inner.kind !== "team" || !isObject(inner.team)) return null;
    team = inner.team;
  }
  return team;
}

/** The spec with the team at `scope` replaced. */
export function withTeamAt(spec, scope, team) {
  if (!scope.length) return team;
  const [seat, ...rest] = scope;
  const outer = spec.participants[seat];
  const inner = withTeamAt(outer.team, rest, team);
  return replaceParticipant(spec, seat, { ...outer, team: inner });
}

/** The path in front of everything inside the team at `scope`: `participants[2].team.`. */
export function scopePrefix(scope) {
  return scope.map((seat) => `participants[${seat}].team.`).join("");
}

/** Which nested team a problem path lies in, and the path inside that team. */
export function scopeOfPath(path) {
  const scope = [];
  let rest = path || "";
  for (;;) {
    const match = /^participants\[(\d+)\]\.team\.(.*)$/.exec(rest);
    if (!match) return { scope, rest };
    scope.push(Number(match[1]));
    rest = match[2];
  }
}

// --- Layout: canvas positions by participant name, in `layout.positions`; the team's own
// node in `layout.team` ---

function positionsOf(spec) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  // Older layouts kept positions at the top level.
  return isObject(layout.positions) ? layout.positions : layout;
}

function asPoint(found) {
  return isObject(found) && Number.isFinite(found.x) && Number.isFinite(found.y)
    ? { x: found.x, y: found.y }
    : null;
}

/** Where the layout puts a participant, or null. */
export function positionOf(spec, name) {
  return asPoint(positionsOf(spec)[name]);
}

function roundPoint(position) {
  return { x: Math.round(position.x), y: Math.round(position.y) };
}

/** The spec with a participant's canvas position set. */
export function withPosition(spec, name, position) {
  return withPositions(spec, { [name]: position });
}

/** The spec with several participants' positions set at once (`{name: {x, y}}`). */
export function withPositions(spec, points, teamPoint) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  const positions = isObject(layout.positions) ? { ...layout.positions } : {};
  for (const [name, point] of Object.entries(points)) positions[name] = roundPoint(point);
  const next = { ...layout, positions };
  if (teamPoint) next.team = roundPoint(teamPoint);
  return { ...spec, layout: next };
}

function withoutPosition(spec, name) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  if (!isObject(layout.positions) || !(name in layout.positions)) return spec;
  const positions = { ...layout.positions };
  delete positions[name];
  return { ...spec, layout: { ...layout, positions } };
}

/** Where the team's own node sits, or null. */
export function teamPosition(spec) {
  return asPoint(isObject(spec.layout) ? spec.layout.team : null);
}

export function withTeamPosition(spec, position) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  return { ...spec, layout: { ...layout, team: roundPoint(position) } };
}

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 110;
const GAP_X = 60;
const GAP_Y = 50;

/**
 * Where each participant goes when the layout does not say, in seat order: rows of a grid
 * (round robin, selector), a circle (a small swarm) or graph layers. Auto-layout does
 * better; this is what a team without a layout opens with, at once.
 */
export function defaultPositions(team) {
  const participants = participantsOf(team);
  const count = participants.length;
  if (team.kind === "graph") return graphLayers(team, participants);
  if (team.kind === "swarm" && count > 2 && count <= 12) {
    const radius = Math.max(160, (count * (NODE_WIDTH + 40)) / (2 * Math.PI));
    return participants.map((_, index) => {
      const angle = (2 * Math.PI * index) / count - Math.PI / 2;
      return { x: radius + radius * Math.cos(angle), y: radius + radius * Math.sin(angle) };
    });
  }
  const columns = Math.max(1, Math.ceil(Math.sqrt(count * 1.6)));
  return participants.map((_, index) => ({
    x: (index % columns) * (NODE_WIDTH + GAP_X),
    y: Math.floor(index / columns) * (NODE_HEIGHT + GAP_Y),
  }));
}

function graphLayers(team, participants) {
  const names = participants.map(participantName);
  const outgoing = new Map(names.map((name) => [name, []]));
  const incoming = new Set();
  for (const edge of graphEdges(team)) {
    if (outgoing.has(edge.source) && outgoing.has(edge.target)) {
      outgoing.get(edge.source).push(edge.target);
      incoming.add(edge.target);
    }
  }
  const depth = new Map();
  let frontier = names.filter((name) => !incoming.has(name));
  if (!frontier.length && names.length) frontier = [names[0]];
  for (const name of frontier) depth.set(name, 0);
  // Breadth first; each node keeps its first (shortest) depth, so cycles end.
  while (frontier.length) {
    const next = [];
    for (const name of frontier) {
      for (const target of outgoing.get(name)) {
        if (!depth.has(target)) {
          depth.set(target, depth.get(name) + 1);
          next.push(target);
        }
      }
    }
    frontier = next;
  }
  const rows = new Map();
  return names.map((name) => {
    const layer = depth.get(name) ?? 0;
    const row = rows.get(layer) ?? 0;
    rows.set(layer, row + 1);
    return { x: layer * (NODE_WIDTH + 80), y: row * (NODE_HEIGHT + GAP_Y) };
  });
}

// --- Participants ---

/** The graph team's edges (an empty list when there is no graph). */
export function graphEdges(spec) {
  return isObject(spec.graph) && Array.isArray(spec.graph.edges)
    ? spec.graph.edges.filter(isObject)
    : [];
}

export function withGraphEdges(spec, edges) {
  return { ...spec, graph: { ...(isObject(spec.graph) ? spec.graph : {}), edges } };
}

export function replaceParticipant(spec, index, participant) {
  const participants = spec.participants.slice();
  participants[index] = participant;
  return { ...spec, participants };
}

function renameInCondition(condition, swap) {
  if (!isObject(condition)) return condition;
  const next = { ...condition };
  if (Array.isArray(next.conditions)) {
    next.conditions = next.conditions.map((part) => renameInCondition(part, swap));
  }
  if (Array.isArray(next.sources)) next.sources = next.sources.map(swap);
  for (const field of ["source", "target"]) {
    if (typeof next[field] === "string") next[field] = swap(next[field]);
  }
  return next;
}

/** Points everything that names participant `from` (handoffs, graph edges, termination,
 * the layout) at `to` instead. */
export function renameReferences(spec, from, to) {
  if (from === to) return spec;
  const swap = (name) => (name === from ? to : name);
  let next = {
    ...spec,
    participants: spec.participants.map((participant) =>
      Array.isArray(participant.handoffs) && participant.handoffs.includes(from)
        ? { ...participant, handoffs: participant.handoffs.map(swap) }
        : participant,
    ),
    termination: renameInCondition(spec.termination, swap),
  };
  if (isObject(spec.graph)) {
    next = withGraphEdges(
      next,
      graphEdges(spec).map((edge) =>
        edge.source === from || edge.target === from
          ? { ...edge, source: swap(edge.source), target: swap(edge.target) }
          : edge,
      ),
    );
  }
  const position = positionOf(spec, from);
  if (position && !positionOf(spec, to)) {
    next = withPosition(withoutPosition(next, from), to, position);
  }
  return next;
}

/**
 * Renames participant `index`. `referenceName` is the name the rest of the spec uses for it
 * (it differs from its name while the name is empty or taken by another participant: the
 * references then stay put, so typing through another agent's name steals nothing).
 * Returns the new spec and the new reference name.
 */
export function renameParticipant(spec, index, name, referenceName) {
  const others = spec.participants.filter((_, i) => i !== index).map(participantName);
  const next = replaceParticipant(spec, index, { ...spec.participants[index], name });
  if (!name || others.includes(name) || others.includes(referenceName)) {
    return { spec: next, referenceName };
  }
  return { spec: renameReferences(next, referenceName, name), referenceName: name };
}

/** Removes participants (by seat) and the handoffs, edges and positions that name them. */
export function removeParticipants(spec, indices) {
  const dropped = new Set(indices);
  const gone = new Set(
    spec.participants.filter((_, i) => dropped.has(i)).map((item) => participantName(item)),
  );
  const kept = spec.participants.filter((_, i) => !dropped.has(i));
  // A name still held by a kept participant keeps its references.
  for (const participant of kept) gone.delete(participantName(participant));
  let next = {
    ...spec,
    participants: kept.map((participant) =>
      Array.isArray(participant.handoffs) && participant.handoffs.some((name) => gone.has(name))
        ? { ...participant, handoffs: participant.handoffs.filter((name) => !gone.has(name)) }
        : participant,
    ),
  };
  if (isObject(spec.graph)) {
    next = withGraphEdges(
      next,
      graphEdges(spec).filter((edge) => !gone.has(edge.source) && !gone.has(edge.target)),
    );
  }
  for (const name of gone) next = withoutPosition(next, name);
  return next;
}

export function removeParticipant(spec, index) {
  return removeParticipants(spec, [index]);
}

/** Moves participant `index` by `offset` seats. */
export function moveSeat(spec, index, offset) {
  return { ...spec, participants: moveItem(spec.participants, index, offset) };
}

export function moveItem(list, index, offset) {
  const next = list.slice();
  const [moved] = next.splice(index, 1);
  next.splice(index + offset, 0, moved);
  return next;
}

/** A name like `agent_3` that no participant has (and none of `taken`). */
export function freshName(spec, stem = "agent", taken = new Set()) {
  const names = new Set([...spec.participants.map(participantName), ...taken]);
  const base = /^[A-Za-z_][A-Za-z0-9_]*$/.test(stem) ? stem.slice(0, 56) : "agent";
  if (stem !== "agent" && !names.has(base)) return base;
  let number = base === "agent" ? spec.participants.length + 1 : 2;
  while (names.has(`${base}_${number}`)) number += 1;
  return `${base}_${number}`;
}

function agentKind(catalog, kind) {
  return catalog.agent_kinds.find((item) => item.value === kind);
}

/** An empty team to put inside a nested team agent. */
export function newInnerTeam() {
  return {
    name: "Inner team",
    description: "",
    kind: "round_robin",
    participants: [],
    termination: null,
    max_turns: 5,
    selector: null,
    graph: null,
    layout: {},
  };
}

/** A participant of `kind` with the catalog's defaults for its fields. */
export function newParticipant(catalog, kind, name, model) {
  const participant = { kind, name };
  for (const field of agentKind(catalog, kind)?.fields || []) {
    if (field.name === "name") continue;
    if (field.default !== null && field.default !== undefined) {
      participant[field.name] = copyJson(field.default);
    }
  }
  const hasModel = (agentKind(catalog, kind)?.fields || []).some((f) => f.name === "model");
  if (hasModel && model) participant.model = model;
  if (kind === "team" && !isObject(participant.team)) participant.team = newInnerTeam();
  return participant;
}

/** The participant as another kind: fields both kinds have are kept, with its id. */
export function changeKind(catalog, participant, kind) {
  const next = newParticipant(catalog, kind, participant.name, null);
  for (const field of agentKind(catalog, kind)?.fields || []) {
    if (field.name in participant) next[field.name] = participant[field.name];
  }
  if (participant.id !== undefined) next.id = participant.id;
  return next;
}

/** The spec with a team kind's own settings present (a selector or a graph). */
export function changeTeamKind(spec, kind) {
  const next = { ...spec, kind };
  if (kind === "selector" && !isObject(spec.selector)) {
    next.selector = { model: null, prompt: "", allow_repeated_speaker: false };
  }
  if (kind === "graph" && !isObject(spec.graph)) next.graph = { edges: [] };
  return next;
}

/** A model as the spec holds it, from a model in GET /api/models (the server reuses it by id). */
export function modelSpecOf(model) {
  return {
    id: model.id,
    name: model.name,
    provider: model.provider,
    model: model.model,
    base_url: model.base_url,
    credential: model.credential ?? null,
    params: model.params || {},
    model_info: model.model_info || {},
    price_input_per_million: Number(model.price_input_per_million) || 0,
    price_output_per_million: Number(model.price_output_per_million) || 0,
    scripted_replies: model.scripted_replies || [],
  };
}

/** The spec without stored ids of agents and teams (a copy saves as new ones; models, which
 * are shared by id, keep theirs). */
export function withoutIds(participant) {
  const next = { ...participant };
  delete next.id;
  if (isObject(next.team)) {
    const { id: _teamId, ...team } = next.team;
    next.team = { ...team, participants: participantsOf(team).map(withoutIds) };
  }
  return next;
}

/** A participant made from a stored agent (GET /api/agents): its fields, its model from
 * `models` by id. */
export function participantFromAgent(catalog, agent, models, name) {
  const kind = agentKind(catalog, agent.kind) ? agent.kind : "assistant";
  const participant = newParticipant(catalog, kind, name, null);
  for (const field of agentKind(catalog, kind)?.fields || []) {
    if (field.name in agent && !["name", "model", "team"].includes(field.name)) {
      participant[field.name] = copyJson(agent[field.name]);
    }
  }
  const model = models.find((item) => item.id === agent.model);
  const hasModel = (agentKind(catalog, kind)?.fields || []).some((f) => f.name === "model");
  if (model && hasModel) participant.model = modelSpecOf(model);
  if (Array.isArray(participant.handoffs)) participant.handoffs = [];
  return participant;
}

/** The participant with a tool added (once). */
export function withTool(participant, tool) {
  const tools = Array.isArray(participant.tools) ? participant.tools : [];
  return tools.includes(tool) ? participant : { ...participant, tools: [...tools, tool] };
}

// --- Termination conditions ---

/** The catalog's entry for a condition type, or undefined. */
export function conditionType(catalog, type) {
  return catalog.conditions.find((item) => item.type === type);
}

/** A new condition of `type` with the catalog's defaults (and a count where one is needed). */
export function newCondition(catalog, type) {
  const entry = conditionType(catalog, type);
  if (!entry) return { type };
  if (entry.is_combinator) {
    const leaf = catalog.conditions.find((item) => !item.is_combinator);
    return { type, conditions: leaf ? [newCondition(catalog, leaf.type)] : [] };
  }
  const condition = { type };
  for (const field of entry.fields) {
    if (field.default !== null && field.default !== undefined) {
      condition[field.name] = copyJson(field.default);
    } else if (field.required) {
      const { kind, schema } = fieldKind(field.schema);
      if (kind === "integer") condition[field.name] = Math.max(10, schema.minimum ?? 1);
      if (kind === "string" && type === "text_mention") condition[field.name] = "TERMINATE";
    }
  }
  return condition;
}

/** A condition fitted to an agent it was dropped on: its source(s) set to that agent. */
export function conditionFor(catalog, type, agentName) {
  const condition = newCondition(catalog, type);
  const fields = conditionType(catalog, type)?.fields || [];
  if (fields.some((field) => field.name === "sources")) condition.sources = [agentName];
  else if (fields.some((field) => field.name === "source")) condition.source = agentName;
  else if (fields.some((field) => field.name === "target")) condition.target = agentName;
  return condition;
}

/** The termination with `condition` added: set when there is none, else joined with "or". */
export function addCondition(termination, condition) {
  if (!isObject(termination)) return condition;
  if (termination.type === "or" && Array.isArray(termination.conditions)) {
    return { ...termination, conditions: [...termination.conditions, condition] };
  }
  return { type: "or", conditions: [termination, condition] };
}

/** A short human summary of a termination tree, for the team node. */
export function describeCondition(condition, catalog, depth = 0) {
  if (!isObject(condition)) return "never (only max turns)";
  const parts = Array.isArray(condition.conditions) ? condition.conditions : [];
  if (condition.type === "or" || condition.type === "and") {
    const joined = parts.map((part) => describeCondition(part, catalog, depth + 1));
    const text = joined.join(condition.type === "or" ? " or " : " and ");
    return depth ? `(${text})` : text;
  }
  const entry = conditionType(catalog, condition.type);
  const label = (entry?.label || String(condition.type ?? "?")).toLowerCase();
  const values = (entry?.fields || [])
    .map((field) => condition[field.name])
    .filter((value) => value !== undefined && value !== null && value !== false && value !== "")
    .map((value) => (Array.isArray(value) ? value.join(", ") : String(value)));
  return values.length ? `${label} ${values.slice(0, 2).join(" ")}` : label;
}

/**
 * What input a field's JSON Schema calls for: integer, number, string, boolean, names (a
 * list of short strings), lines (a list of longer strings) or json (anything else), and
 * whether null is allowed.
 */
export function fieldKind(schema) {
  let own = isObject(schema) ? schema : {};
  let isNullable = false;
  if (Array.isArray(own.anyOf)) {
    const rest = own.anyOf.filter((option) => option.type !== "null");
    isNullable = rest.length < own.anyOf.length;
    if (rest.length !== 1) return { kind: "json", isNullable, schema: own };
    own = rest[0];
  }
  if (own.type === "array" && isObject(own.items) && own.items.type === "string") {
    const isShort = (own.items.maxLength ?? Infinity) <= 100;
    return { kind: isShort ? "names" : "lines", isNullable, schema: own };
  }
  if (Array.isArray(own.enum) && own.enum.every((item) => typeof item === "string")) {
    return { kind: "choice", isNullable, schema: own };
  }
  if (["integer", "number", "string", "boolean"].includes(own.type)) {
    return { kind: own.type, isNullable, schema: own };
  }
  return { kind: "json", isNullable, schema: own };
}

// --- Problem paths ---

/** The participant a problem path such as `participants[2].model` points at, or -1. */
export function participantOfPath(path) {
  const match = /^participants\[(\d+)\]/.exec(path || "");
  return match ? Number(match[1]) : -1;
}

/** The path and its parents, longest first: `a.b[2].c`, `a.b[2]`, `a.b`, `a`. */
export function pathPrefixes(path) {
  const prefixes = [];
  let rest = path || "";
  while (rest) {
    prefixes.push(rest);
    const cut = Math.max(rest.lastIndexOf("."), rest.lastIndexOf("["));
    rest = cut > 0 ? rest.slice(0, cut) : "";
  }
  return prefixes;
}
