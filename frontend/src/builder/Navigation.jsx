// Ways around the team besides the canvas: the agents in seat order, and the trail of
// nested teams opened.

import { memo } from "react";
import { agentId } from "./edges.js";
import { plural } from "./Notices.jsx";
import { participantName } from "./spec.js";

/** The agents in seat order, as buttons: a way to the agents that needs no canvas. */
export const SeatList = memo(function SeatList({ names, selected, problemCounts, onSelect }) {
  if (!names.length) return null;
  return (
    <nav className="seat-list" aria-label="Agents in seat order">
      {names.map((name, seat) => {
        const id = agentId(seat);
        return (
          <button
            key={id}
            type="button"
            className={`small${problemCounts.get(id) ? " has-problems" : ""}`}
            aria-pressed={id === selected}
            onClick={() => onSelect(id)}
          >
            {name || "(no name)"}
          </button>
        );
      })}
    </nav>
  );
});

export function Breadcrumbs({ spec, scope, outsideProblems, onGo }) {
  if (!scope.length) return null;
  const trail = [{ name: spec.name || "Team", depth: 0 }];
  let team = spec;
  scope.forEach((seat, index) => {
    const agent = team.participants[seat];
    team = agent.team;
    const name = `${participantName(agent)} (${team.name || "inner team"})`;
    trail.push({ name, depth: index + 1 });
  });
  return (
    <nav className="breadcrumbs" aria-label="Nested teams">
      {trail.map((step, index) =>
        index === trail.length - 1 ? (
          <span key={step.depth} aria-current="page">
            {step.name}
          </span>
        ) : (
          <span key={step.depth}>
            <button type="button" className="button-link" onClick={() => onGo(step.depth)}>
              {step.name}
            </button>{" "}
            ›{" "}
          </span>
        ),
      )}
      {outsideProblems > 0 && (
        <span className="error-text small">
          {" "}
          · {plural(outsideProblems, "problem")} outside this team
        </span>
      )}
    </nav>
  );
}

