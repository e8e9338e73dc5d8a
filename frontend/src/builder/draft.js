// The builder's working copy of a team and its agents, and the API payloads made from it.
// Shapes: studio/teams/schemas.py (TeamIn/TeamPatch, AgentIn/AgentPatch, GraphEdge).

export const TEAM_KINDS = [
  ["round_robin", "Round robin"],
  ["selector", "Selector (a model picks who speaks)"],
  ["swarm", "Swarm (agents hand off)"],
  ["graph", "Graph (edges decide)"],
];

export const AGENT_KINDS = [
  ["assistant", "Assistant"],
  ["user_proxy", "Human seat"],
  ["team", "Nested team"],
];

const AGENT_FIELDS = [
  "name",
  "kind",
  "description",
  "system_message",
  "model",
  "tools",
  "handoffs",
  "reflect_on_tool_use",
  "max_tool_iterations",
  "model_client_stream",
  "team",
  "instruction",
  "response_prompt",
];

const TEAM_FIELDS = [
  "name",
  "description",
  "kind",
  "termination",
  "max_turns",
  "selector_model",
  "selector_prompt",
  "allow_repeated_speaker",
  "graph_edges",
];

let nextLocalKey = 1;

/** A fresh key for an agent that only exists in the browser so far. */
export function localKey() {
  nextLocalKey += 1;
  return `new-${nextLocalKey}`;
}

function pick(source, fields) {
  const out = {};
  for (const field of fields) out[field] = source[field];
  return out;
}

/** Builds the draft from the API's team and the agents of its seats (in seat order). */
export function draftFromServer(team, agents) {
  const layout = team.layout && typeof team.layout === "object" ? team.layout : {};
  return {
    team: {
      ...pick(team, TEAM_FIELDS),
      graph_edges: Array.isArray(team.graph_edges) ? team.graph_edges : [],
      positions: { ...(layout.positions || {}) },
    },
    agents: agents.map((agent) => ({
      key: `agent-${agent.id}`,
      id: agent.id,
      role: agent.role,
      isDirty: false,
      ...pick(agent, AGENT_FIELDS),
      tools: agent.tools || [],
      handoffs: agent.handoffs || [],
    })),
  };
}

/** A new assistant with a name nobody in the team has yet. */
export function newAgent(agents, models) {
  const names = new Set(agents.map((agent) => agent.name));
  let index = agents.length + 1;
  while (names.has(`agent_${index}`)) index += 1;
  return {
    key: localKey(),
    id: null,
    role: "owner",
    isDirty: true,
    name: `agent_${index}`,
    kind: "assistant",
    description: "",
    system_message: "You are a helpful assistant.",
    model: models.length ? models[0].id : null,
    tools: [],
    handoffs: [],
    reflect_on_tool_use: false,
    max_tool_iterations: 1,
    model_client_stream: false,
    team: null,
    instruction: "",
    response_prompt: "",
  };
}

/** The body of POST /api/agents or PUT /api/agents/{id}. */
export function agentPayload(agent) {
  const body = pick(agent, AGENT_FIELDS);
  body.max_tool_iterations = Math.max(1, Number(body.max_tool_iterations) || 1);
  return body;
}

/** The body of PUT /api/teams/{id}: seats are agent ids, positions go in the layout. */
export function teamPayload(draft, agentIds) {
  const body = pick(draft.team, TEAM_FIELDS);
  body.max_turns = body.max_turns ? Number(body.max_turns) : null;
  body.participants = agentIds;
  body.layout = { positions: draft.team.positions };
  return body;
}

/** The seat index a problem path such as `participants[2].model` points at, or -1. */
export function seatOfPath(path) {
  const match = /^participants\[(\d+)\]/.exec(path || "");
  return match ? Number(match[1]) : -1;
}

/** Where a node goes when the layout does not say: a row, a circle or graph layers. */
export function defaultPosition(draft, index) {
  const { kind, graph_edges: edges } = draft.team;
  const count = draft.agents.length;
  if (kind === "graph") {
    const depth = graphDepths(draft.agents.map((agent) => agent.name), edges || []);
    const name = draft.agents[index].name;
    const sameDepth = draft.agents.filter((agent) => depth[agent.name] === depth[name]);
    const row = sameDepth.findIndex((agent) => agent.name === name);
    return { x: depth[name] * 280, y: row * 140 };
  }
  if (kind === "swarm" && count > 2) {
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
  frontier.forEach((name) => {
    depth[name] = 0;
  });
  // Breadth first; each node keeps the first (shortest) depth, so cycles terminate.
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

/** Renames an agent everywhere the team refers to it by name. */
export function renameAgent(draft, oldName, newName) {
  if (oldName === newName) return draft;
  const positions = { ...draft.team.positions };
  if (positions[oldName]) {
    positions[newName] = positions[oldName];
    delete positions[oldName];
  }
  const rename = (name) => (name === oldName ? newName : name);
  return {
    team: {
      ...draft.team,
      positions,
      graph_edges: draft.team.graph_edges.map((edge) => ({
        ...edge,
        source: rename(edge.source),
        target: rename(edge.target),
      })),
    },
    agents: draft.agents.map((agent) => {
      if (!agent.handoffs.includes(oldName)) return agent;
      return { ...agent, isDirty: true, handoffs: agent.handoffs.map(rename) };
    }),
  };
}

/** Removes an agent's seat and every edge and handoff that names it. */
export function removeAgent(draft, key) {
  const agent = draft.agents.find((item) => item.key === key);
  if (!agent) return draft;
  const name = agent.name;
  const positions = { ...draft.team.positions };
  delete positions[name];
  return {
    team: {
      ...draft.team,
      positions,
      graph_edges: draft.team.graph_edges.filter(
        (edge) => edge.source !== name && edge.target !== name,
      ),
    },
    agents: draft.agents
      .filter((item) => item.key !== key)
      .map((item) =>
        item.handoffs.includes(name)
          ? { ...item, isDirty: true, handoffs: item.handoffs.filter((h) => h !== name) }
          : item,
      ),
  };
}

/** The draft as plain JSON for the JSON tab (no browser-only fields). */
export function draftToJson(draft) {
  return {
    team: { ...pick(draft.team, TEAM_FIELDS), layout: { positions: draft.team.positions } },
    agents: draft.agents.map((agent) => ({ id: agent.id, ...agentPayload(agent) })),
  };
}

/** Reads the JSON tab back into a draft; throws Error with a readable message. */
export function draftFromJson(text, previous) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`The JSON does not parse: ${error.message}`);
  }
  if (!data || typeof data !== "object" || !data.team || !Array.isArray(data.agents)) {
    throw new Error('Expected an object with "team" and an "agents" list.');
  }
  const byId = new Map(previous.agents.filter((a) => a.id).map((a) => [a.id, a]));
  const agents = data.agents.map((agent, index) => {
    if (!agent || typeof agent.name !== "string" || !agent.name) {
      throw new Error(`agents[${index}].name: every agent needs a name.`);
    }
    const known = agent.id ? byId.get(agent.id) : null;
    return {
      ...newAgent([], []),
      ...pick(agent, AGENT_FIELDS.filter((field) => field in agent)),
      key: known ? known.key : localKey(),
      id: known ? known.id : null,
      role: known ? known.role : "owner",
      isDirty: true,
    };
  });
  const layout = data.team.layout || {};
  return {
    team: {
      ...previous.team,
      ...pick(data.team, TEAM_FIELDS.filter((field) => field in data.team)),
      graph_edges: Array.isArray(data.team.graph_edges) ? data.team.graph_edges : [],
      positions: { ...(layout.positions || {}) },
    },
    agents,
  };
}
