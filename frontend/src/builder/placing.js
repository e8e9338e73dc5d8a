// What a palette item, or pasted agents, do to a team: pure functions from a team to the next
// team (and which seats to select after). Templates are fetched by the builder first.

import {
  addCondition,
  conditionFor,
  copyJson,
  freshName,
  isObject,
  modelSpecOf,
  NODE_HEIGHT,
  NODE_WIDTH,
  newCondition,
  newParticipant,
  participantFromAgent,
  participantName,
  positionOf,
  replaceParticipant,
  withoutIds,
  withPositions,
  withTool,
} from "./spec.js";

const STEMS = { assistant: "assistant", user_proxy: "user", team: "inner_team" };

/** A name stem made from any text: `Plan, code, test` -> `plan_code_test`. */
export function stemOf(text, fallback = "agent") {
  const stem = String(text || "")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 40);
  return /^[a-z_]/.test(stem) ? stem : fallback;
}

/**
 * The team with `participants` added after the others, each named afresh when its name is
 * taken, placed from `position` on (the first node's centre). Returns {team, seats}.
 */
export function addParticipants(team, participants, position) {
  const taken = new Set();
  const points = {};
  const added = participants.map((participant, offset) => {
    const wanted = participantName(participant) || "agent";
    const name = freshName({ participants: team.participants }, wanted, taken);
    taken.add(name);
    if (position) {
      points[name] = {
        x: position.x - NODE_WIDTH / 2 + offset * 40,
        y: position.y - NODE_HEIGHT / 2 + offset * 40,
      };
    }
    return { ...participant, name };
  });
  const next = { ...team, participants: [...team.participants, ...added] };
  const start = team.participants.length;
  return {
    team: Object.keys(points).length ? withPositions(next, points) : next,
    seats: added.map((_, index) => start + index),
  };
}

/** A new participant for an agent-making palette item ({type: agent | agent_template |
 * team_template}); `context` holds the catalog, the lists and a fetched template team. */
export function participantForItem(item, context) {
  const { catalog, lists, template } = context;
  if (item.type === "agent") {
    return newParticipant(catalog, item.kind, STEMS[item.kind] || "agent", null);
  }
  if (item.type === "agent_template") {
    const agent = lists.agents.find((entry) => entry.id === item.id);
    return agent ? participantFromAgent(catalog, agent, lists.models, stemOf(agent.name)) : null;
  }
  if (item.type === "team_template" && template) {
    return {
      ...newParticipant(catalog, "team", stemOf(template.name, "inner_team"), null),
      description: template.description || "",
      team: innerTeamOf(template),
    };
  }
  if (item.type === "model") {
    const model = lists.models.find((entry) => entry.id === item.id);
    return newParticipant(catalog, "assistant", "assistant", model ? modelSpecOf(model) : null);
  }
  return null;
}

/** A stored team's spec as a nested team: without ids, so the copy saves as a new team. */
export function innerTeamOf(template) {
  const spec = copyJson(template.spec || template);
  delete spec.id;
  spec.participants = (Array.isArray(spec.participants) ? spec.participants : []).map(withoutIds);
  return spec;
}

/**
 * An item dropped on (or picked for) the participant at `seat`: a model, a tool, a
 * condition that watches it, or a template team for a nested team. Returns {team} or
 * {error} saying why it does not fit.
 */
export function applyToAgent(team, seat, item, context) {
  const { catalog, lists, template } = context;
  const participant = team.participants[seat];
  const name = participantName(participant);
  if (item.type === "model") {
    if (participant.kind !== "assistant" && participant.kind !== "team") {
      return { error: `${name} is a human seat: it has no model.` };
    }
    const model = lists.models.find((entry) => entry.id === item.id);
    if (!model) return { error: "That model is no longer listed." };
    return { team: replaceParticipant(team, seat, { ...participant, model: modelSpecOf(model) }) };
  }
  if (item.type === "tool") {
    if (participant.kind !== "assistant") {
      return { error: `Only assistants use tools; ${name} is not one.` };
    }
    return { team: replaceParticipant(team, seat, withTool(participant, item.name)) };
  }
  if (item.type === "condition") {
    const condition = conditionFor(catalog, item.condition, name);
    return { team: { ...team, termination: addCondition(team.termination, condition) } };
  }
  if (item.type === "team_template" && participant.kind === "team" && template) {
    const inner = innerTeamOf(template);
    return { team: replaceParticipant(team, seat, { ...participant, team: inner }) };
  }
  return null; // not an item that goes on an agent: it is added beside it
}

/** An item dropped on the team's own node, or on the canvas when it adds no agent. */
export function applyToTeam(team, item, context) {
  const { catalog, lists } = context;
  if (item.type === "condition") {
    const condition = newCondition(catalog, item.condition);
    return { team: { ...team, termination: addCondition(team.termination, condition) } };
  }
  if (item.type === "model" && team.kind === "selector") {
    const model = lists.models.find((entry) => entry.id === item.id);
    if (!model) return { error: "That model is no longer listed." };
    const selector = isObject(team.selector) ? team.selector : {};
    return { team: { ...team, selector: { ...selector, model: modelSpecOf(model) } } };
  }
  if (item.type === "tool") return { error: "Drop a tool on an assistant (or select one first)." };
  return null;
}

/** Agents copied from a team: their specs and where they sat. */
export function copyAgents(team, seats) {
  return seats
    .filter((seat) => isObject(team.participants[seat]))
    .map((seat) => {
      const participant = team.participants[seat];
      return {
        participant: withoutIds(copyJson(participant)),
        position: positionOf(team, participantName(participant)),
      };
    });
}
