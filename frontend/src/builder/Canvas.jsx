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
import { defaultPosition } from "./draft.js";

const KIND_LABELS = { assistant: "Assistant", user_proxy: "Human seat", team: "Nested team" };

function AgentNode({ data, selected }) {
  return (
    <div
      className={`agent-node kind-${data.kind}${selected ? " selected" : ""}`}
      data-testid="agent-node"
      aria-label={`Agent ${data.name}`}
    >
      {SIDES.map(([side, position]) => (
        <Handle key={`t-${side}`} id={`t-${side}`} type="target" position={position} />
      ))}
      <div className="node-kind">
        {KIND_LABELS[data.kind] || data.kind}
        {data.seat !== null && <span className="node-order"> · seat {data.seat + 1}</span>}
      </div>
      <div className="node-name">
        <span className="node-avatar" aria-hidden="true">
          {data.name.slice(0, 1).toUpperCase()}
        </span>
        <span>{data.name}</span>
      </div>
      {data.detail && <div className="node-model">{data.detail}</div>}
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
function teamEdges(draft, selectedEdge) {
  const { kind } = draft.team;
  const agents = draft.agents;
  const keyOf = new Map(agents.map((agent) => [agent.name, agent.key]));
  if (kind === "graph") {
    return draft.team.graph_edges
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
  if (kind === "swarm") {
    // A pair of agents that hand off both ways is drawn as one two-headed edge.
    const handsTo = (name, target) =>
      agents.some((agent) => agent.name === name && agent.handoffs.includes(target));
    const edges = [];
    for (const agent of agents) {
      for (const target of agent.handoffs) {
        const targetKey = keyOf.get(target);
        if (!targetKey) continue;
        const isMutual = handsTo(target, agent.name);
        if (isMutual && agent.key > targetKey) continue;
        const id = `handoff-${agent.key}-${target}`;
        const pairs = [{ from: agent.key, target }];
        if (isMutual) pairs.push({ from: targetKey, target: agent.name });
        edges.push({
          id,
          source: agent.key,
          target: targetKey,
          label: isMutual ? "handoffs both ways" : "handoff",
          animated: true,
          markerEnd: ARROW,
          markerStart: isMutual ? ARROW : undefined,
          selected: selectedEdge === id,
          data: { pairs },
        });
      }
    }
    return edges;
  }
  if (kind === "round_robin" && agents.length > 1) {
    return agents.map((agent, index) => ({
      id: `order-${index}`,
      source: agent.key,
      target: agents[(index + 1) % agents.length].key,
      style: { strokeDasharray: "4 4" },
      markerEnd: ARROW,
      selectable: false,
      deletable: false,
    }));
  }
  return [];
}

function nodeDetail(agent, modelNames) {
  if (agent.kind === "user_proxy") return "asks a person";
  if (agent.kind === "team") return agent.team ? "runs an inner team" : "no inner team";
  const model = agent.model ? modelNames.get(agent.model) || `model #${agent.model}` : "no model";
  const tools = agent.tools.length ? ` · ${agent.tools.length} tool(s)` : "";
  return `${model}${tools}`;
}

/**
 * The team on a canvas. Dragging moves nodes (positions are saved with the team);
 * connecting two nodes adds a graph edge or a handoff, depending on the team kind.
 */
export function Canvas({ draft, models, selected, onSelect, onMove, onConnect, onDeleteEdge }) {
  const modelNames = useMemo(() => new Map(models.map((m) => [m.id, m.name])), [models]);
  const [nodes, setNodes] = useState([]);
  const [selectedEdge, setSelectedEdge] = useState(null);

  useEffect(() => {
    setNodes((previous) => {
      const byId = new Map(previous.map((node) => [node.id, node]));
      return draft.agents.map((agent, index) => {
        const old = byId.get(agent.key);
        const position =
          draft.team.positions[agent.name] || (old && old.position) || defaultPosition(draft, index);
        return {
          ...(old || {}),
          id: agent.key,
          type: "agent",
          position,
          deletable: false,
          selected: agent.key === selected,
          data: {
            name: agent.name,
            kind: agent.kind,
            seat: draft.team.kind === "round_robin" ? index : null,
            detail: nodeDetail(agent, modelNames),
          },
        };
      });
    });
  }, [draft, selected, modelNames]);

  const positions = useMemo(
    () => new Map(nodes.map((node) => [node.id, node.position])),
    [nodes],
  );
  const edges = useMemo(
    () => attachToSides(teamEdges(draft, selectedEdge), positions),
    [draft, selectedEdge, positions],
  );

  const handleNodesChange = useCallback(
    (changes) => {
      setNodes((current) => applyNodeChanges(changes, current));
      // Keyboard selection (Tab to a node, then Enter) arrives here rather than as a click.
      const picked = changes.find((change) => change.type === "select" && change.selected);
      if (picked && picked.id !== selected) onSelect(picked.id);
    },
    [onSelect, selected],
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

  const canConnect = draft.team.kind === "graph" || draft.team.kind === "swarm";

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
        onNodeDragStop={(_, node) => onMove(node.id, node.position)}
        onConnect={canConnect ? onConnect : undefined}
        nodesConnectable={canConnect}
        fitView
        fitViewOptions={{ padding: 0.3, maxZoom: 1.2 }}
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
        deleteKeyCode={["Backspace", "Delete"]}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable ariaLabel="Overview of the canvas" />
      </ReactFlow>
    </div>
  );
}
