// The canvas's nodes: one for the team itself (its kind, when it stops, its turn limit) and
// one per participant (assistant, human seat, nested team) showing its model and tools.
// Nodes re-render only when their own data changes (React.memo; the canvas keeps the data
// objects of unchanged participants).

import { createContext, memo, useContext } from "react";
import { Handle, Position } from "@xyflow/react";
import { plural } from "./Notices.jsx";

/** What a node can ask the builder to do: open a nested team, go to a problem. */
export const NodeActions = createContext({ openInner: () => {}, pickProblem: () => {} });

const SIDES = [
  ["left", Position.Left],
  ["right", Position.Right],
  ["top", Position.Top],
  ["bottom", Position.Bottom],
];

/** One handle per side; with the canvas in loose mode an edge may start or end at any. */
function Handles({ isConnectable }) {
  return SIDES.map(([side, position]) => (
    <Handle
      key={side}
      id={side}
      type="source"
      position={position}
      isConnectable={isConnectable}
      className={isConnectable ? undefined : "handle-quiet"}
    />
  ));
}

function ProblemMark({ id, count, label }) {
  const actions = useContext(NodeActions);
  if (!count) return null;
  return (
    <button
      type="button"
      className="node-problems nodrag"
      aria-label={`${count} problem${count === 1 ? "" : "s"} of ${label}: show the first`}
      onClick={(event) => {
        event.stopPropagation();
        actions.pickProblem(id);
      }}
    >
      ⚠ {count} problem{count === 1 ? "" : "s"}
    </button>
  );
}

const MAX_TOOLS_SHOWN = 4;

export const AgentNode = memo(function AgentNode({ id, data, selected }) {
  const actions = useContext(NodeActions);
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
      <Handles isConnectable={data.isConnectable} />
      <div className="node-kind">
        {data.kindLabel}
        {data.seat !== null && <span className="node-order"> · seat {data.seat + 1}</span>}
      </div>
      <div className="node-name">
        <span className="node-avatar" aria-hidden="true">
          {(data.name || "?").slice(0, 1).toUpperCase()}
        </span>
        <span>{data.name || "(no name)"}</span>
      </div>
      {data.hasModel && (
        <div
          className={`node-model${data.model ? "" : " is-missing"}`}
          data-testid="node-model"
          title={data.model || undefined}
        >
          {data.model ? `◆ ${data.model}` : "◇ no model: drop one here"}
        </div>
      )}
      {data.kind === "user_proxy" && <div className="node-model">asks the person watching</div>}
      {data.tools.length > 0 && (
        <ul className="node-tools" aria-label={`Tools of ${data.name}`}>
          {data.tools.slice(0, MAX_TOOLS_SHOWN).map((tool) => (
            <li key={tool}>{tool}</li>
          ))}
          {data.tools.length > MAX_TOOLS_SHOWN && (
            <li className="more">+{data.tools.length - MAX_TOOLS_SHOWN}</li>
          )}
        </ul>
      )}
      {data.kind === "team" && (
        <div className="node-inner">
          <span>
            {data.inner
              ? `runs ${data.inner.name} · ${plural(data.inner.count, "agent")}`
              : "no inner team"}
          </span>
          {data.inner && (
            <button
              type="button"
              className="small nodrag"
              aria-label={`Open the inner team of ${data.name}`}
              onClick={(event) => {
                event.stopPropagation();
                actions.openInner(data.index);
              }}
            >
              Open ›
            </button>
          )}
        </div>
      )}
      <ProblemMark id={id} count={data.problems} label={data.name} />
    </div>
  );
});

export const TeamNode = memo(function TeamNode({ id, data, selected }) {
  const classes = ["team-node"];
  if (selected) classes.push("selected");
  if (data.problems) classes.push("has-problems");
  return (
    <div
      className={classes.join(" ")}
      data-testid="team-node"
      data-problems={data.problems || undefined}
      aria-label={`Team ${data.name}`}
    >
      <Handles isConnectable={false} />
      <div className="node-kind">Team · {data.kindLabel}</div>
      <div className="node-name">{data.name || "Untitled team"}</div>
      <dl className="team-facts">
        <dt>Stops</dt>
        <dd data-testid="team-termination">{data.termination}</dd>
        <dt>Max turns</dt>
        <dd data-testid="team-max-turns">{data.maxTurns ?? "no limit"}</dd>
        {data.picker !== undefined && (
          <>
            <dt>Picks with</dt>
            <dd data-testid="team-picker" className={data.picker ? undefined : "is-missing"}>
              {data.picker ? `◆ ${data.picker}` : "◇ no model: drop one here"}
            </dd>
          </>
        )}
      </dl>
      <ProblemMark id={id} count={data.problems} label="the team" />
    </div>
  );
});

export const NODE_TYPES = { agent: AgentNode, team: TeamNode };
