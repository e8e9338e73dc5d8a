// The builder's state is the team spec itself (the shape of TeamSpec in studio/teams/spec.py,
// whose JSON Schema the catalog serves). Every edit here takes a spec and returns a new one;
// nothing is kept beside it except the canvas's keys for its nodes.

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

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObject(value)) return value;
  const out = {};
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) out[key] = canonical(value[key]);
  }
  return out;
}

/** Whether two specs hold the same JSON (key order does not matter). */
export function isSameSpec(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** A deep copy of JSON. */
export function copyJson(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

export function participantName(participant) {
  return typeof participant.name === "string" ? participant.name : String(participant.name ?? "");
}

// --- Layout: canvas positions by participant name, in `layout.positions` ---

function positionsOf(spec) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  // Older layouts kept positions at the top level.
  return isObject(layout.positions) ? layout.positions : layout;
}

/** Where the layout puts a participant, or null. */
export function positionOf(spec, name) {
  const found = positionsOf(spec)[name];
  return isObject(found) && Number.isFinite(found.x) && Number.isFinite(found.y)
    ? { x: found.x, y: found.y }
    : null;
}

/** The spec with a participant's canvas position set. */
export function withPosition(spec, name, position) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  const positions = isObject(layout.positions) ? layout.positions : {};
  const point = { x: Math.round(position.x), y: Math.round(position.y) };
  return { ...spec, layout: { ...layout, positions: { ...positions, [name]: point } } };
}

function withoutPosition(spec, name) {
  const layout = isObject(spec.layout) ? spec.layout : {};
  if (!isObject(layout.positions) || !(name in layout.positions)) return spec;
  const positions = { ...layout.positions };
  delete positions[name];
  return { ...spec, layout: { ...layout, positions } };
}

/** Where a node goes when the layout does not say: a row, a circle or graph layers. */
export function defaultPosition(spec, index) {
  const names = spec.participants.map(participantName);
  const count = names.length;
  if (spec.kind === "graph") {
    const depth = graphDepths(names, graphEdges(spec));
    const name = names[index];
    const row = names.filter((other) => depth[other] === depth[name]).indexOf(name);
    return { x: depth[name] * 280, y: row * 140 };
  }
  if (spec.kind === "swarm" && count > 2) {
    const angle = (2 * Math.PI * index) / count - Math.PI / 2;
    const radius = 90 + count * 30;
    return { x: radius + radius * Math.cos(angle), y: radius + radius * Math.sin(angle) };
  }
  return { x: index * 260, y: index % 2 === 0 ? 0 : 90 };
}

function graphDepths(names, edges) {
  const depth = {};
  const incoming = new Set(edges.map((edge) => edge.target));
  let frontier = names.filter((name) => !incoming.has(name));
  if (!frontier.length && names.length) frontier = [names[0]];
  for (const name of frontier) depth[name] = 0;
  // Breadth first; each node keeps its first (shortest) depth, so cycles end.
  while (frontier.length) {
    const next = [];
    for (const name of frontier) {
      for (const edge of edges) {
        if (edge.source === name && depth[edge.target] === undefined) {
          depth[edge.target] = depth[name] + 1;
          next.push(edge.target);
        }
      }
    }
    frontier = next;
  }
  for (const name of names) if (depth[name] === undefined) depth[name] = 0;
  return depth;
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
      graphEdges(spec).map((edge) => ({
        ...edge,
        source: swap(edge.source),
        target: swap(edge.target),
      })),
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

/** Removes a participant and the handoffs, edges and position that name it. */
export function removeParticipant(spec, index) {
  const name = participantName(spec.participants[index]);
  let next = {
    ...spec,
    participants: spec.participants
      .filter((_, i) => i !== index)
      .map((participant) =>
        Array.isArray(participant.handoffs) && participant.handoffs.includes(name)
          ? { ...participant, handoffs: participant.handoffs.filter((other) => other !== name) }
          : participant,
      ),
  };
  if (isObject(spec.graph)) {
    next = withGraphEdges(
      next,
      graphEdges(spec).filter((edge) => edge.source !== name && edge.target !== name),
    );
  }
  return withoutPosition(next, name);
}

/** Moves participant `index` by `offset` seats. */
export function moveSeat(spec, index, offset) {
  const participants = spec.participants.slice();
  const [moved] = participants.splice(index, 1);
  participants.splice(index + offset, 0, moved);
  return { ...spec, participants };
}

export function moveItem(list, index, offset) {
  const next = list.slice();
  const [moved] = next.splice(index, 1);
  next.splice(index + offset, 0, moved);
  return next;
}

/** A name like `agent_3` that no participant has. */
export function freshName(spec, stem = "agent") {
  const taken = new Set(spec.participants.map(participantName));
  let number = spec.participants.length + 1;
  while (taken.has(`${stem}_${number}`)) number += 1;
  return `${stem}_${number}`;
}

function agentKind(catalog, kind) {
  return catalog.agent_kinds.find((item) => item.value === kind);
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
  if (hasModel && model && kind === "assistant") participant.model = model;
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
    } else if (field.required && fieldKind(field.schema).kind === "integer") {
      condition[field.name] = Math.max(10, fieldKind(field.schema).schema.minimum ?? 1);
    }
  }
  return condition;
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
