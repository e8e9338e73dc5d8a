// The live conversation graph: agents as nodes, an edge between two agents for every time
// one spoke (or handed off) right after the other. The latest edge is lit up; handoffs
// are drawn in their own colour. Loaded on demand, after the transcript.
import {
  BaseEdge,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  ReactFlowProvider,
  getStraightPath,
  useInternalNode,
} from "@xyflow/react";
import { memo, useMemo } from "react";

const NODE_WIDTH = 120;
const NODE_HEIGHT = 44;

function describeTurns(turns) {
  if (!turns) return "silent";
  return turns === 1 ? "1 turn" : `${turns.toLocaleString()} turns`;
}

function AgentNode({ data }) {
  const classes = ["graph-node"];
  if (data.isCurrent) classes.push("is-current");
  if (data.isHuman) classes.push("is-human");
  return (
    <div className={classes.join(" ")}>
      {/* Edges need handles to attach to; they are drawn from border to border instead. */}
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <span className="graph-node-name">{data.label}</span>
      <span className="graph-node-turns">{describeTurns(data.turns)}</span>
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

/** Where the line from the centre of `node` towards the centre of `other` leaves `node`. */
function borderPoint(node, other) {
  const width = node.measured?.width ?? NODE_WIDTH;
  const height = node.measured?.height ?? NODE_HEIGHT;
  const x = node.internals.positionAbsolute.x + width / 2;
  const y = node.internals.positionAbsolute.y + height / 2;
  const otherX = other.internals.positionAbsolute.x + (other.measured?.width ?? NODE_WIDTH) / 2;
  const otherY = other.internals.positionAbsolute.y + (other.measured?.height ?? NODE_HEIGHT) / 2;
  const dx = otherX - x;
  const dy = otherY - y;
  if (!dx && !dy) return [x, y];
  const scale = 1 / Math.max(Math.abs(dx) / (width / 2), Math.abs(dy) / (height / 2));
  return [x + dx * scale, y + dy * scale];
}

function TalkEdge({ id, source, target, markerStart, markerEnd, label }) {
  const from = useInternalNode(source);
  const to = useInternalNode(target);
  if (!from || !to) return null;
  const [sourceX, sourceY] = borderPoint(from, to);
  const [targetX, targetY] = borderPoint(to, from);
  const [path, labelX, labelY] = getStraightPath({ sourceX, sourceY, targetX, targetY });
  return (
    <BaseEdge
      id={id}
      path={path}
      markerStart={markerStart}
      markerEnd={markerEnd}
      label={label}
      labelX={labelX}
      labelY={labelY}
      labelBgPadding={[4, 2]}
      labelBgBorderRadius={4}
    />
  );
}

const NODE_TYPES = { agent: AgentNode };
const EDGE_TYPES = { talk: TalkEdge };

/** Nodes on a circle, in the order the team lists its agents (newcomers after them). */
function layout(names) {
  const count = names.length;
  const radius = count <= 1 ? 0 : Math.max(90, (count * (NODE_WIDTH + 24)) / (2 * Math.PI));
  return names.map((name, index) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * index) / Math.max(count, 1);
    return {
      name,
      x: Math.round(radius * Math.cos(angle) - NODE_WIDTH / 2),
      y: Math.round(radius * Math.sin(angle) - NODE_HEIGHT / 2),
    };
  });
}

/** One drawn edge per pair of agents, with arrows for the directions that happened. */
function pairEdges(graph) {
  const pairs = new Map();
  for (const edge of graph.edges.values()) {
    const [first, second] = edge.from < edge.to ? [edge.from, edge.to] : [edge.to, edge.from];
    const key = `${first}\u0000${second}`;
    let pair = pairs.get(key);
    if (!pair) {
      pair = { key, first, second, forward: 0, backward: 0, handoffs: 0, isActive: false };
      pairs.set(key, pair);
    }
    if (edge.from === first) pair.forward += edge.count;
    else pair.backward += edge.count;
    pair.handoffs += edge.handoffs;
    if (edge.key === graph.lastEdge) pair.isActive = true;
  }
  return [...pairs.values()];
}

function describePair(pair) {
  const parts = [];
  if (pair.forward) parts.push(`${pair.first} → ${pair.second}: ${pair.forward}`);
  if (pair.backward) parts.push(`${pair.second} → ${pair.first}: ${pair.backward}`);
  const handoffs = pair.handoffs ? ` (${pair.handoffs} handoffs)` : "";
  return parts.join(", ") + handoffs;
}

/**
 * The graph of who spoke after whom. `graph` is the transcript's graph (nodes, edges,
 * lastEdge); `agents` the team's participants ([{name, isHuman}]) so silent agents show
 * too; `speaker` the current speaker; `version` changes whenever the graph may have.
 */
function ConversationGraph({ graph, agents, speaker, version }) {
  const { nodes, edges, pairs } = useMemo(() => {
    const humans = new Set(agents.filter((agent) => agent.isHuman).map((agent) => agent.name));
    const names = agents.map((agent) => agent.name);
    for (const name of graph.nodes.keys()) if (!names.includes(name)) names.push(name);
    const placed = layout(names).map(({ name, x, y }) => ({
      id: name,
      type: "agent",
      position: { x, y },
      draggable: false,
      selectable: false,
      data: {
        label: name,
        turns: graph.nodes.get(name)?.turns ?? 0,
        isHuman: humans.has(name) || name === "user",
        isCurrent: name === speaker,
      },
    }));
    const drawn = pairEdges(graph);
    const arrow = (color) => ({ type: MarkerType.ArrowClosed, width: 16, height: 16, color });
    const lines = drawn.map((pair) => {
      const color = pair.handoffs ? "var(--warn)" : "var(--accent)";
      const classes = ["talk-edge"];
      if (pair.handoffs) classes.push("is-handoff");
      if (pair.isActive) classes.push("is-active");
      return {
        id: pair.key,
        source: pair.first,
        target: pair.second,
        type: "talk",
        className: classes.join(" "),
        animated: pair.isActive,
        label: String(pair.forward + pair.backward),
        markerEnd: pair.forward ? arrow(color) : undefined,
        markerStart: pair.backward ? arrow(color) : undefined,
        selectable: false,
        focusable: false,
      };
    });
    return { nodes: placed, edges: lines, pairs: drawn };
    // `version` stands for the mutable graph's contents.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [graph, agents, speaker, version]);

  if (!nodes.length) return <p className="muted small">Nobody has spoken yet.</p>;
  return (
    <>
      <div className="run-graph" aria-hidden="true" data-testid="conversation-graph">
        <ReactFlowProvider>
          <ReactFlow
            key={nodes.map((node) => node.id).join("\u0000")}
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            edgeTypes={EDGE_TYPES}
            fitView
            fitViewOptions={{ padding: 0.15 }}
            minZoom={0.2}
            nodesDraggable={false}
            nodesConnectable={false}
            nodesFocusable={false}
            edgesFocusable={false}
            elementsSelectable={false}
            panOnDrag={false}
            zoomOnScroll={false}
            zoomOnPinch={false}
            zoomOnDoubleClick={false}
            preventScrolling={false}
            proOptions={{ hideAttribution: true }}
          />
        </ReactFlowProvider>
      </div>
      <ul className="visually-hidden" aria-label="Who spoke after whom">
        {pairs.map((pair) => (
          <li key={pair.key}>{describePair(pair)}</li>
        ))}
      </ul>
    </>
  );
}

export default memo(ConversationGraph);
