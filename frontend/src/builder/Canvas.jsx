import { useCallback, useEffect, useMemo, useState } from "react";
import {
  applyNodeChanges,
  Background,
  Controls,
  Handle,
  MarkerType,
  MiniMap,
  Position,
  ReactFlow,
} from "@xyflow/react";
import { defaultPosition, graphEdges, participantName, positionOf } from "./spec.js";

function AgentNode({ data, selected }) {
  const classes = ["agent-node", `kind-${data.kind}`];
  if (selected) classes.push("selected");
  if (data.problems) classes.push("has-problems");
  return (
    <div
      className={classes.join(" ")}
      data-testid="agent-node"
      data-problems={data.problems || undefined}
      aria-label={`Agent ${data.name}`}
    >
      {SIDES.map(([side, position]) => (
        <Handle key={`t-${side}`} id={`t-${side}`} type="target" position={position} />
      ))}
      <div className="node-kind">
        {data.kindLabel}
        {data.seat !== null && <span className="node-order"> · seat {data.seat + 1}</span>}
      </div>
      <div className="node-name">
        <span className="node-avatar" aria-hidden="true">
          {data.name.slice(0, 1).toUpperCase()}
        </span>
        <span>{data.name}</span>
      </div>
      {data.detail && <div className="node-model">{data.detail}</div>}
      {data.problems > 0 && (
        <div className="node-problems">
          ⚠ {data.problems} problem{data.problems === 1 ? "" : "s"}
        </div>
      )}
      {SIDES.map(([side, position]) => (
        <Handle key={`s-${side}`} id={`s-${side}`} type="source" position={position} />
      ))}
    </div>
  );
}

const SIDES = [
  ["left", Position.Left],
  ["right", Position.Right],
  ["top", Position.Top],
  ["bottom", Position.Bottom],
];
const NODE_TYPES = { agent: AgentNode };
const NODE_SIZE = { width: 200, height: 80 };

/** Which sides an edge should leave and enter by, from where the two nodes sit. */
function sidesBetween(from, to) {
  if (!from || !to) return { sourceHandle: "s-right", targetHandle: "t-left" };
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  if (Math.abs(dx) >= Math.abs(dy) * (NODE_SIZE.width / NODE_SIZE.height) * 0.5) {
    return dx >= 0
      ? { sourceHandle: "s-right", targetHandle: "t-left" }
      : { sourceHandle: "s-left", targetHandle: "t-right" };
  }
  return dy >= 0
    ? { sourceHandle: "s-bottom", targetHandle: "t-top" }
    : { sourceHandle: "s-top", targetHandle: "t-bottom" };
}

/** Attaches each edge to the sides of its nodes that face each other. */
function attachToSides(edges, positions) {
  return edges.map((edge) => ({
    ...edge,
    ...sidesBetween(positions.get(edge.source), positions.get(edge.target)),
  }));
}
const ARROW = { type: MarkerType.ArrowClosed, width: 18, height: 18 };

/** The edges a team kind draws: seat order, handoffs or graph edges. */
function teamEdges(spec, keys, selectedEdge) {
  const participants = spec.participants;
  const keyOf = new Map();
  participants.forEach((participant, index) => {
    const name = participantName(participant);
    if (!keyOf.has(name)) keyOf.set(name, keys[index]);
  });
  if (spec.kind === "graph") {
    return graphEdges(spec)
      .map((edge, index) => ({
        id: `graph-${index}`,
        source: keyOf.get(edge.source),
        target: keyOf.get(edge.target),
        label: edge.condition ? `contains “${edge.condition}”` : undefined,
        markerEnd: ARROW,
        selected: selectedEdge === `graph-${index}`,
        data: { index },
      }))
      .filter((edge) => edge.source && edge.target);
  }
  if (spec.kind === "swarm") {
    const handoffsOf = (participant) =>
      Array.isArray(participant.handoffs) ? participant.handoffs : [];
    const handsTo = (name, target) =>
      participants.some(
        (participant) =>
          participantName(participant) === name && handoffsOf(participant).includes(target),
      );
    // A pair of agents that hand off both ways is drawn as one two-headed edge.
    const edges = [];
    participants.forEach((participant, index) => {
      const key = keys[index];
      const name = participantName(participant);
      for (const target of handoffsOf(participant)) {
        const targetKey = keyOf.get(target);
        if (!targetKey) continue;
        const isMutual = handsTo(target, name);
        if (isMutual && key > targetKey) continue;
        const id = `handoff-${key}-${target}`;
        const pairs = [{ from: key, target }];
        if (isMutual) pairs.push({ from: targetKey, target: name });
        edges.push({
          id,
          source: key,
          target: targetKey,
          label: isMutual ? "handoffs both ways" : "handoff",
          animated: true,
          markerEnd: ARROW,
          markerStart: isMutual ? ARROW : undefined,
          selected: selectedEdge === id,
          data: { pairs },
        });
      }
    });
    return edges;
  }
  if (spec.kind === "round_robin" && participants.length > 1) {
    return keys.map((key, index) => ({
      id: `order-${index}`,
      source: key,
      target: keys[(index + 1) % keys.length],
      style: { strokeDasharray: "4 4" },
      markerEnd: ARROW,
      selectable: false,
      deletable: false,
    }));
  }
  return [];
}

function nodeDetail(participant) {
  if (participant.kind === "user_proxy") return "asks a person";
  if (participant.kind === "team") {
    const inner = participant.team;
    if (!inner || typeof inner !== "object") return "no inner team";
    return `runs ${inner.name || "an inner team"}`;
  }
  const model = participant.model;
  const modelName =
    model && typeof model === "object" ? model.name || model.model || "a model" : "no model";
  const count = Array.isArray(participant.tools) ? participant.tools.length : 0;
  return `${modelName}${count ? ` · ${count} tool(s)` : ""}`;
}

/**
 * The team on a canvas. Dragging a node, or moving it with the arrow keys, sets its position
 * in the spec's layout; connecting two nodes adds a graph edge or a handoff, depending on the
 * team kind. `keys` name the nodes (one per participant, in seat order).
 */
export function Canvas({
  spec,
  keys,
  catalog,
  selected,
  problemCounts,
  isReadOnly,
  onSelect,
  onMove,
  onConnect,
  onDeleteEdge,
}) {
  const [nodes, setNodes] = useState([]);
  const [selectedEdge, setSelectedEdge] = useState(null);
  // The catalog's kind labels, without their explanations in brackets (nodes are small).
  const kindLabels = useMemo(
    () =>
      new Map(
        catalog.agent_kinds.map((kind) => [kind.value, kind.label.replace(/\s*\(.*\)$/, "")]),
      ),
    [catalog],
  );

  useEffect(() => {
    setNodes((previous) => {
      const byId = new Map(previous.map((node) => [node.id, node]));
      return spec.participants.map((participant, index) => {
        const key = keys[index];
        const old = byId.get(key);
        const name = participantName(participant);
        // A node already on the canvas stays where it is (two agents may share a name
        // while one is being renamed); a new one goes where the layout says.
        const position =
          (old && old.position) || positionOf(spec, name) || defaultPosition(spec, index);
        return {
          ...(old || {}),
          id: key,
          type: "agent",
          position,
          deletable: false,
          draggable: !isReadOnly,
          selected: key === selected,
          data: {
            name,
            kind: participant.kind,
            kindLabel: kindLabels.get(participant.kind) || String(participant.kind ?? "?"),
            seat: spec.kind === "round_robin" ? index : null,
            detail: nodeDetail(participant),
            problems: problemCounts.get(key) || 0,
          },
        };
      });
    });
  }, [spec, keys, selected, kindLabels, problemCounts, isReadOnly]);

  const positions = useMemo(() => new Map(nodes.map((node) => [node.id, node.position])), [nodes]);
  const edges = useMemo(
    () => attachToSides(teamEdges(spec, keys, selectedEdge), positions),
    [spec, keys, selectedEdge, positions],
  );

  const handleNodesChange = useCallback(
    (changes) => {
      setNodes((current) => applyNodeChanges(changes, current));
      // Keyboard selection (Tab to a node, then Enter) arrives here rather than as a click.
      const picked = changes.find((change) => change.type === "select" && change.selected);
      if (picked && picked.id !== selected) onSelect(picked.id);
      // A drag ends, or an arrow key moves a node, with a position that is no longer dragging.
      for (const change of changes) {
        if (change.type === "position" && !change.dragging && change.position) {
          onMove(change.id, change.position);
        }
      }
    },
    [onSelect, onMove, selected],
  );

  const handleEdgesChange = useCallback(
    (changes) => {
      for (const change of changes) {
        if (change.type === "select") setSelectedEdge(change.selected ? change.id : null);
        if (change.type === "remove") {
          const edge = edges.find((item) => item.id === change.id);
          if (edge && edge.data) onDeleteEdge(edge.data);
        }
      }
    },
    [edges, onDeleteEdge],
  );

  const canConnect = !isReadOnly && (spec.kind === "graph" || spec.kind === "swarm");

  return (
    <div className="canvas-wrap" aria-label="Team canvas" role="region">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={handleNodesChange}
        onEdgesChange={handleEdgesChange}
        onNodeClick={(_, node) => onSelect(node.id)}
        onPaneClick={() => setSelectedEdge(null)}
        onConnect={canConnect ? onConnect : undefined}
        nodesConnectable={canConnect}
        nodesDraggable={!isReadOnly}
        fitView
        fitViewOptions={{ padding: 0.3, maxZoom: 1.2 }}
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
        deleteKeyCode={isReadOnly ? null : ["Backspace", "Delete"]}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable ariaLabel="Overview of the canvas" />
      </ReactFlow>
    </div>
  );
}
