// The canvas's edges, by team kind: seat order (round robin, and the selector's candidate
// order), handoffs (swarm, a pair that hands off both ways drawn once with two heads) and
// graph edges labelled with when they are followed and how their target waits.

import { MarkerType } from "@xyflow/react";
import { graphEdges, isObject, participantName } from "./spec.js";

const ARROW = { type: MarkerType.ArrowClosed, width: 18, height: 18 };
const NODE_RATIO = 230 / 110;

/** Node ids of a scope's participants: by seat. */
export function agentId(index) {
  return `a${index}`;
}

export function seatOfId(id) {
  return /^a\d+$/.test(id || "") ? Number(id.slice(1)) : -1;
}

/** A graph edge's label: when it is followed, and "any" when its target runs on the first. */
export function edgeLabel(edge) {
  const when = typeof edge.condition === "string" ? `contains “${edge.condition}”` : "always";
  const group = edge.activation_group ? ` · group ${edge.activation_group}` : "";
  return edge.activation_condition === "any" ? `${when} · any${group}` : `${when}${group}`;
}

/**
 * The edges a team kind draws, without sides: [{id, source, target, …}]. `data` says what a
 * deleted edge removes: a graph edge by index, or handoffs `{from: seat, target: name}`.
 */
export function teamEdges(team, selectedEdge) {
  const participants = Array.isArray(team.participants) ? team.participants : [];
  const seatOf = new Map();
  participants.forEach((participant, index) => {
    const name = participantName(participant);
    if (!seatOf.has(name)) seatOf.set(name, index);
  });
  if (team.kind === "graph") {
    return graphEdges(team).flatMap((edge, index) => {
      const from = seatOf.get(edge.source);
      const to = seatOf.get(edge.target);
      if (from === undefined || to === undefined) return [];
      const id = `g${index}`;
      return [
        {
          id,
          source: agentId(from),
          target: agentId(to),
          label: edgeLabel(edge),
          className: typeof edge.condition === "string" ? "edge-conditional" : "edge-always",
          markerEnd: ARROW,
          selected: selectedEdge === id,
          data: { graphIndex: index },
        },
      ];
    });
  }
  if (team.kind === "swarm") return handoffEdges(participants, seatOf, selectedEdge);
  if ((team.kind === "round_robin" || team.kind === "selector") && participants.length > 1) {
    const isRing = team.kind === "round_robin";
    const count = isRing ? participants.length : participants.length - 1;
    return Array.from({ length: count }, (_, index) => ({
      id: `o${index}`,
      source: agentId(index),
      target: agentId((index + 1) % participants.length),
      className: isRing ? "edge-order" : "edge-seat",
      markerEnd: isRing ? ARROW : undefined,
      selectable: false,
      deletable: false,
      focusable: false,
    }));
  }
  return [];
}

function handoffEdges(participants, seatOf, selectedEdge) {
  const handoffsOf = (participant) =>
    isObject(participant) && Array.isArray(participant.handoffs) ? participant.handoffs : [];
  const handsTo = (seat, target) => handoffsOf(participants[seat]).includes(target);
  const edges = [];
  participants.forEach((participant, from) => {
    const name = participantName(participant);
    for (const target of handoffsOf(participant)) {
      const to = seatOf.get(target);
      if (to === undefined || to === from) continue;
      const isMutual = handsTo(to, name);
      if (isMutual && from > to) continue;
      const id = `h${from}-${to}`;
      const pairs = [{ from, target }];
      if (isMutual) pairs.push({ from: to, target: name });
      edges.push({
        id,
        source: agentId(from),
        target: agentId(to),
        label: isMutual ? "handoffs both ways" : "handoff",
        className: "edge-handoff",
        markerEnd: ARROW,
        markerStart: isMutual ? ARROW : undefined,
        selected: selectedEdge === id,
        data: { pairs },
      });
    }
  });
  return edges;
}

/** Which sides an edge should leave and enter by, from where the two nodes sit. */
export function sidesBetween(from, to) {
  if (!from || !to) return { sourceHandle: "right", targetHandle: "left" };
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  if (Math.abs(dx) >= Math.abs(dy) * NODE_RATIO * 0.5) {
    return dx >= 0
      ? { sourceHandle: "right", targetHandle: "left" }
      : { sourceHandle: "left", targetHandle: "right" };
  }
  return dy >= 0
    ? { sourceHandle: "bottom", targetHandle: "top" }
    : { sourceHandle: "top", targetHandle: "bottom" };
}
