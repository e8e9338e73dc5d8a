// Auto-layout with ELK (the Eclipse Layout Kernel), chosen per team kind:
//   round robin, selector  rectangle packing in seat order (rows, left to right)
//   graph                  layered along the edges, wrapped when long
//   swarm                  layered along the handoffs; packing when that gets too thin
// No two nodes overlap. The team's own node goes above the agents. ELK is large, so it is
// loaded the first time someone asks for a layout.

import { agentId } from "./edges.js";
import { NODE_HEIGHT, NODE_WIDTH, graphEdges, isObject, participantName } from "./spec.js";

const SPACING = 50;
const MAX_ASPECT = 4;
let elkLoading = null;

function loadElk() {
  if (!elkLoading) {
    elkLoading = import("elkjs/lib/elk.bundled.js").then((module) => {
      const Elk = module.default || module;
      return new Elk();
    });
  }
  return elkLoading;
}

function packing() {
  return {
    "elk.algorithm": "rectpacking",
    "elk.aspectRatio": "1.6",
    "elk.spacing.nodeNode": String(SPACING),
    "elk.padding": "[top=0,left=0,bottom=0,right=0]",
  };
}

function layered() {
  return {
    "elk.algorithm": "layered",
    "elk.direction": "RIGHT",
    "elk.aspectRatio": "1.6",
    "elk.layered.wrapping.strategy": "MULTI_EDGE",
    "elk.spacing.nodeNode": String(SPACING),
    "elk.layered.spacing.nodeNodeBetweenLayers": String(SPACING * 2),
    "elk.spacing.edgeNode": "20",
    "elk.padding": "[top=0,left=0,bottom=0,right=0]",
  };
}

/** The edges ELK lays out along, as [{id, sources, targets}]. */
function flowEdges(team, seatOf) {
  const pairs = [];
  if (team.kind === "graph") {
    for (const edge of graphEdges(team)) pairs.push([edge.source, edge.target]);
  } else if (team.kind === "swarm") {
    team.participants.forEach((participant) => {
      const handoffs = Array.isArray(participant.handoffs) ? participant.handoffs : [];
      for (const target of handoffs) pairs.push([participantName(participant), target]);
    });
  }
  return pairs
    .filter(([source, target]) => seatOf.has(source) && seatOf.has(target) && source !== target)
    .map(([source, target], index) => ({
      id: `e${index}`,
      sources: [agentId(seatOf.get(source))],
      targets: [agentId(seatOf.get(target))],
    }));
}

function isTooThin(graph) {
  const ratio = (graph.width || 1) / (graph.height || 1);
  return ratio > MAX_ASPECT || ratio < 1 / MAX_ASPECT;
}

/**
 * Places every participant of `team`; `sizes` maps node ids to measured {width, height}.
 * Resolves to {positions: {name: {x, y}}, team: {x, y}}.
 */
export async function autoLayout(team, sizes) {
  const elk = await loadElk();
  const participants = team.participants.filter(isObject);
  const seatOf = new Map();
  participants.forEach((participant, index) => {
    const name = participantName(participant);
    if (!seatOf.has(name)) seatOf.set(name, index);
  });
  const children = participants.map((_, index) => {
    const size = sizes.get(agentId(index));
    return {
      id: agentId(index),
      width: Math.ceil(size?.width || NODE_WIDTH),
      height: Math.ceil(size?.height || NODE_HEIGHT),
    };
  });
  const edges = flowEdges(team, seatOf);
  const byFlow = team.kind === "graph" || (team.kind === "swarm" && edges.length > 0);
  let graph = await elk.layout({
    id: "team",
    layoutOptions: byFlow ? layered() : packing(),
    children,
    edges: byFlow ? edges : [],
  });
  if (byFlow && team.kind === "swarm" && isTooThin(graph)) {
    graph = await elk.layout({ id: "team", layoutOptions: packing(), children, edges: [] });
  }
  const positions = {};
  let minX = Infinity;
  let minY = Infinity;
  for (const child of graph.children) {
    const index = Number(child.id.slice(1));
    const name = participantName(participants[index]);
    // Two participants sharing a name share a position; validation flags the name.
    if (!(name in positions)) positions[name] = { x: child.x, y: child.y };
    minX = Math.min(minX, child.x);
    minY = Math.min(minY, child.y);
  }
  const teamSize = sizes.get("team");
  const teamHeight = teamSize?.height || 120;
  const top = Number.isFinite(minY) ? minY : 0;
  return {
    positions,
    team: { x: Number.isFinite(minX) ? minX : 0, y: top - teamHeight - SPACING * 1.5 },
  };
}
