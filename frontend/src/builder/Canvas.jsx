import {
  forwardRef,
  memo,
  useCallback,
  useImperativeHandle,
  useMemo,
  useRef,
  useState,
} from "react";
import {
  Background,
  ConnectionMode,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  ReactFlowProvider,
} from "@xyflow/react";
import { agentId, seatOfId, sidesBetween, teamEdges } from "./edges.js";
import { autoLayout } from "./layout.js";
import { NODE_TYPES, NodeActions } from "./nodes.jsx";
import { PALETTE_TYPE, readDragged } from "./Palette.jsx";
import {
  defaultPositions,
  describeCondition,
  NODE_HEIGHT,
  NODE_WIDTH,
  isObject,
  participantName,
  positionOf,
  teamPosition,
} from "./spec.js";

/** Above this many agents only the nodes in view are drawn. */
const VISIBLE_ONLY_FROM = 60;
const TEAM_ID = "team";

function samePoint(a, b) {
  return a === b || (a && b && a.x === b.x && a.y === b.y);
}

function agentData(participant, index, team, kindLabels, problems, isConnectable) {
  const model = participant.model;
  const inner = isObject(participant.team) ? participant.team : null;
  return {
    index,
    name: participantName(participant),
    kind: participant.kind,
    kindLabel: kindLabels.get(participant.kind) || String(participant.kind ?? "?"),
    seat: team.kind === "round_robin" || team.kind === "selector" ? index : null,
    hasModel: participant.kind === "assistant" || participant.kind === "team",
    model: isObject(model) ? model.name || model.model || "a model" : null,
    tools: Array.isArray(participant.tools) ? participant.tools : [],
    inner: inner
      ? {
          name: inner.name || "an inner team",
          count: Array.isArray(inner.participants) ? inner.participants.length : 0,
        }
      : null,
    problems,
    isConnectable,
  };
}

/** The name of the model a selector team picks speakers with, or null. */
function selectorModelName(team) {
  const model = isObject(team.selector) ? team.selector.model : null;
  return isObject(model) ? model.name || model.model || "a model" : null;
}

/**
 * Node objects for the team, reusing the previous object of every node whose inputs did not
 * change (so React Flow and React.memo skip them: a drag or a keystroke redraws one node).
 */
function useNodes({
  team,
  kindLabels,
  catalog,
  selection,
  problemCounts,
  sizes,
  drag,
  dropTarget,
  isReadOnly,
}) {
  const cache = useRef(new Map());
  const defaults = useMemo(
    () => defaultPositions(team),
    [team.participants, team.kind, team.graph],
  );
  return useMemo(() => {
    const seen = new Map();
    const isConnectable = !isReadOnly && (team.kind === "graph" || team.kind === "swarm");
    // `inputs` are compared one by one; the first is the node's position (by value).
    const build = (id, inputs, make) => {
      const previous = cache.current.get(id);
      const isSame =
        previous &&
        samePoint(previous.inputs[0], inputs[0]) &&
        previous.inputs.every((value, index) => index === 0 || value === inputs[index]);
      const node = isSame ? previous.node : make();
      seen.set(id, { inputs, node });
      return node;
    };
    const named = new Set();
    const nodes = team.participants.map((participant, index) => {
      const id = agentId(index);
      // The layout keys positions by name; while a second agent has a name already taken
      // (mid-rename, say), it stays where it was instead of jumping onto the first.
      const name = participantName(participant);
      const isDuplicate = named.has(name);
      named.add(name);
      const kept = isDuplicate ? cache.current.get(id)?.inputs[0] : null;
      const position =
        drag?.[id] || kept || (!isDuplicate && positionOf(team, name)) || defaults[index];
      const isSelected = selection.includes(id);
      const problems = problemCounts.get(id) || 0;
      const size = sizes.get(id);
      const className = dropTarget === id ? "is-drop-target" : undefined;
      const inputs = [
        position,
        participant,
        isSelected,
        problems,
        size,
        className,
        kindLabels,
        isConnectable,
        team.kind,
      ];
      return build(id, inputs, () => ({
        id,
        type: "agent",
        position,
        selected: isSelected,
        draggable: !isReadOnly,
        deletable: !isReadOnly,
        measured: size,
        className,
        data: agentData(participant, index, team, kindLabels, problems, isConnectable),
      }));
    });
    // The team's node sits where the layout says, or above the agents.
    let position = drag?.[TEAM_ID] || teamPosition(team);
    if (!position) {
      const tops = nodes.map((node) => node.position);
      const minX = tops.length ? Math.min(...tops.map((p) => p.x)) : 0;
      const minY = tops.length ? Math.min(...tops.map((p) => p.y)) : 200;
      position = { x: minX, y: minY - 200 };
    }
    const kindLabel =
      catalog.team_kinds.find((item) => item.value === team.kind)?.label || team.kind;
    const termination = describeCondition(team.termination, catalog);
    const picker = team.kind === "selector" ? selectorModelName(team) : undefined;
    const teamProblems = problemCounts.get(TEAM_ID) || 0;
    const teamSize = sizes.get(TEAM_ID);
    const isSelected = selection.includes(TEAM_ID);
    const teamClass = dropTarget === TEAM_ID ? "is-drop-target" : undefined;
    const teamInputs = [
      position,
      team.name,
      kindLabel,
      termination,
      team.max_turns,
      teamProblems,
      teamSize,
      isSelected,
      teamClass,
      isReadOnly,
      picker,
    ];
    nodes.push(
      build(TEAM_ID, teamInputs, () => ({
        id: TEAM_ID,
        type: "team",
        position,
        selected: isSelected,
        draggable: !isReadOnly,
        deletable: false,
        connectable: false,
        measured: teamSize,
        className: teamClass,
        data: {
          name: team.name,
          kindLabel,
          termination,
          maxTurns: team.max_turns,
          picker,
          problems: teamProblems,
        },
      })),
    );
    cache.current = seen;
    return nodes;
  }, [
    team,
    defaults,
    kindLabels,
    catalog,
    selection,
    problemCounts,
    sizes,
    drag,
    dropTarget,
    isReadOnly,
  ]);
}

const EDGE_FIELDS = ["source", "target", "label", "className", "selected", "markerStart"];

/** Whether two edges draw the same (every team edit makes new edge objects). */
function isSameEdge(a, b) {
  return (
    a === b ||
    (EDGE_FIELDS.every((field) => a[field] === b[field]) &&
      JSON.stringify(a.data) === JSON.stringify(b.data))
  );
}

/** Edges with the sides their nodes face each other by (objects kept while unchanged). */
function useEdges(team, nodes, selectedEdge) {
  const cache = useRef(new Map());
  const plain = useMemo(() => teamEdges(team, selectedEdge), [team, selectedEdge]);
  return useMemo(() => {
    const where = new Map(nodes.map((node) => [node.id, node.position]));
    const seen = new Map();
    const edges = plain.map((edge) => {
      const sides = sidesBetween(where.get(edge.source), where.get(edge.target));
      const previous = cache.current.get(edge.id);
      const node =
        previous &&
        isSameEdge(previous.edge, edge) &&
        previous.sides.sourceHandle === sides.sourceHandle &&
        previous.sides.targetHandle === sides.targetHandle
          ? previous.node
          : { ...edge, ...sides };
      seen.set(edge.id, { edge, sides, node });
      return node;
    });
    cache.current = seen;
    return edges;
  }, [plain, nodes]);
}

function CanvasFlow(
  { team, catalog, selection, selectedEdge, problemCounts, isReadOnly, actions, label },
  ref,
) {
  const flow = useReactFlow();
  const wrapper = useRef(null);
  const [sizes, setSizes] = useState(() => new Map());
  const [drag, setDrag] = useState(null);
  const [dropTarget, setDropTarget] = useState(null);
  const isReady = useRef(false);
  const kindLabels = useMemo(
    () =>
      new Map(
        catalog.agent_kinds.map((kind) => [kind.value, kind.label.replace(/\s*\(.*\)$/, "")]),
      ),
    [catalog],
  );
  const nodes = useNodes({
    team,
    kindLabels,
    catalog,
    selection,
    problemCounts,
    sizes,
    drag,
    dropTarget,
    isReadOnly,
  });
  const edges = useEdges(team, nodes, selectedEdge);
  const latest = useRef({});
  latest.current = { nodes, selection, edges, sizes };

  useImperativeHandle(
    ref,
    () => ({
      /** Lays the team out with ELK; resolves to {positions, team}. */
      layout: () => autoLayout(team, latest.current.sizes),
      fit: () => flow.fitView({ padding: 0.2, duration: 200 }),
      /** Where a new node should go: the middle of what is in view, moved right until it
       * covers no other node (its centre, in flow coordinates). */
      freeSpot: () => {
        const box = wrapper.current?.getBoundingClientRect();
        const middle = box
          ? flow.screenToFlowPosition({
              x: box.left + box.width / 2,
              y: box.top + box.height / 2,
            })
          : { x: 0, y: 0 };
        const taken = latest.current.nodes.map((node) => ({
          ...node.position,
          width: node.measured?.width || NODE_WIDTH,
          height: node.measured?.height || NODE_HEIGHT,
        }));
        const spot = { x: middle.x - NODE_WIDTH / 2, y: middle.y - NODE_HEIGHT / 2 };
        const isFree = () =>
          taken.every(
            (other) =>
              spot.x + NODE_WIDTH + 20 <= other.x ||
              other.x + other.width + 20 <= spot.x ||
              spot.y + NODE_HEIGHT + 20 <= other.y ||
              other.y + other.height + 20 <= spot.y,
          );
        for (let tries = 0; tries < 200 && !isFree(); tries += 1) spot.x += 40;
        return { x: spot.x + NODE_WIDTH / 2, y: spot.y + NODE_HEIGHT / 2 };
      },
    }),
    [team, flow],
  );

  const handleNodesChange = useCallback(
    (changes) => {
      const measured = changes.filter(
        (change) => change.type === "dimensions" && change.dimensions,
      );
      if (measured.length) {
        setSizes((current) => {
          const next = new Map(current);
          for (const change of measured) {
            const old = next.get(change.id);
            const { width, height } = change.dimensions;
            if (!old || old.width !== width || old.height !== height) {
              next.set(change.id, { width, height });
            }
          }
          if (!isReady.current && next.size >= latest.current.nodes.length) {
            isReady.current = true;
            performance.mark("builder-ready");
            wrapper.current?.setAttribute("data-ready", "true");
          }
          return next;
        });
      }
      const moving = {};
      const moved = [];
      for (const change of changes) {
        if (change.type !== "position" || !change.position) continue;
        if (change.dragging) moving[change.id] = change.position;
        else moved.push({ id: change.id, position: change.position });
      }
      if (Object.keys(moving).length) setDrag((current) => ({ ...current, ...moving }));
      if (moved.length) {
        // A drag ends, or an arrow key moves a node: the layout in the spec takes it.
        actions.onMove(moved);
        setDrag(null);
      }
      const picks = changes.filter((change) => change.type === "select");
      if (picks.length) {
        const chosen = new Set(latest.current.selection);
        for (const change of picks) {
          if (change.selected) chosen.add(change.id);
          else chosen.delete(change.id);
        }
        actions.onSelect([...chosen]);
      }
    },
    [actions],
  );

  const handleEdgesChange = useCallback(
    (changes) => {
      for (const change of changes) {
        if (change.type === "select") actions.onSelectEdge(change.selected ? change.id : null);
      }
    },
    [actions],
  );

  const handleDelete = useCallback(
    ({ nodes: gone, edges: cut }) =>
      actions.onDelete({ nodes: gone.map((node) => node.id), edges: cut }),
    [actions],
  );

  const targetOf = (event) => {
    const element =
      event.target instanceof Element ? event.target.closest(".react-flow__node") : null;
    return element?.getAttribute("data-id") ?? null;
  };

  const handleDragOver = (event) => {
    if (isReadOnly || !event.dataTransfer.types.includes(PALETTE_TYPE)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    const target = targetOf(event);
    if (target !== dropTarget) setDropTarget(target);
  };

  const handleDrop = (event) => {
    setDropTarget(null);
    const item = readDragged(event.dataTransfer);
    if (!item || isReadOnly) return;
    event.preventDefault();
    const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    actions.onDropItem(item, { targetId: targetOf(event), position });
  };

  const canConnect = !isReadOnly && (team.kind === "graph" || team.kind === "swarm");
  const count = team.participants.length;

  return (
    <div
      ref={wrapper}
      className="canvas-wrap"
      aria-label={label}
      role="region"
      data-testid="canvas"
      onDragOver={handleDragOver}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget)) setDropTarget(null);
      }}
      onDrop={handleDrop}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={handleNodesChange}
        onEdgesChange={handleEdgesChange}
        onDelete={handleDelete}
        onNodeClick={(_, node) => actions.onNodeClick(node.id)}
        onPaneClick={() => actions.onSelectEdge(null)}
        onConnect={canConnect ? actions.onConnect : undefined}
        connectionMode={ConnectionMode.Loose}
        nodesConnectable={canConnect}
        nodesDraggable={!isReadOnly}
        elementsSelectable
        onlyRenderVisibleElements={count >= VISIBLE_ONLY_FROM}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.1 }}
        minZoom={0.05}
        maxZoom={2}
        proOptions={{ hideAttribution: true }}
        deleteKeyCode={isReadOnly ? null : ["Backspace", "Delete"]}
        multiSelectionKeyCode={["Shift", "Meta", "Control"]}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable ariaLabel="Overview of the canvas" />
      </ReactFlow>
      {count === 0 && (
        <p className="canvas-empty" aria-hidden="true">
          Drag an agent from the palette here.
        </p>
      )}
    </div>
  );
}

const CanvasInner = forwardRef(CanvasFlow);

/**
 * The team on a canvas: the team's node and one node per participant. Dragging a node, or
 * moving it with the arrow keys, sets its position in the layout; connecting two nodes adds
 * a graph edge or a handoff; palette items dropped on the canvas or on a node go to
 * `actions.onDropItem`.
 */
export const Canvas = memo(
  forwardRef(function Canvas(props, ref) {
    return (
      <ReactFlowProvider>
        <NodeActions.Provider value={props.nodeActions}>
          <CanvasInner {...props} ref={ref} />
        </NodeActions.Provider>
      </ReactFlowProvider>
    );
  }),
);

export { TEAM_ID, seatOfId };
