// The palette: everything a team is made of, to drag onto the canvas (or onto an agent), or
// to pick with the keyboard (focus an item, press Enter). Agent kinds and templates add an
// agent; a model or a tool goes to the agent it is dropped on (or the selected one); a
// termination condition joins the team's stop conditions.

import { memo, useId, useState } from "react";

/** The drag data type palette items carry. */
export const PALETTE_TYPE = "application/x-roundtable-palette";

/** The palette item a drop carries, or null. */
export function readDragged(dataTransfer) {
  try {
    const raw = dataTransfer.getData(PALETTE_TYPE);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

/**
 * One palette entry: draggable, and focusable (Enter or Space picks it). Entries are options
 * of a list rather than buttons, so a model called "Undo test" never reads as a second Undo
 * button.
 */
function Item({ item, label, detail, help, onPick, isDisabled }) {
  const pick = () => {
    if (!isDisabled) onPick(item);
  };
  return (
    <li
      role="option"
      aria-selected="false"
      aria-disabled={isDisabled || undefined}
      tabIndex={isDisabled ? -1 : 0}
      className={`palette-item palette-${item.type}`}
      draggable={!isDisabled}
      title={help || undefined}
      data-testid="palette-item"
      onDragStart={(event) => {
        event.dataTransfer.setData(PALETTE_TYPE, JSON.stringify(item));
        event.dataTransfer.setData("text/plain", label);
        event.dataTransfer.effectAllowed = "copy";
      }}
      onDoubleClick={pick}
      onKeyDown={(event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          pick();
        } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const sibling =
            event.key === "ArrowDown"
              ? event.currentTarget.nextElementSibling
              : event.currentTarget.previousElementSibling;
          sibling?.focus();
        }
      }}
    >
      {label}
      {detail && (
        <>
          {" "}
          <span className="palette-detail">{detail}</span>
        </>
      )}
    </li>
  );
}

/**
 * A folding group of entries ({key, item, label, detail, help}); a closed group keeps its
 * entries out of the page.
 */
function Section({ title, hint, entries, isOpenAtFirst = true, isDisabled, onPick }) {
  const id = useId();
  const [isOpen, setOpen] = useState(isOpenAtFirst);
  return (
    <details
      className="palette-section"
      open={isOpen}
      onToggle={(event) => setOpen(event.currentTarget.open)}
    >
      <summary id={id}>
        {title} <span className="muted small">{entries.length}</span>
      </summary>
      {isOpen && hint && <p className="muted small palette-hint">{hint}</p>}
      {isOpen && (
        <ul role="listbox" aria-labelledby={id}>
          {entries.map(({ key, ...entry }) => (
            <Item key={key} {...entry} isDisabled={isDisabled} onPick={onPick} />
          ))}
        </ul>
      )}
    </details>
  );
}

/** What sets a model apart under its name: the server's label without the name. */
function modelDetail(model) {
  const label = model.label || "";
  return label.startsWith(model.name) ? label.slice(model.name.length).trim() : model.provider;
}

function matches(filter, ...texts) {
  if (!filter) return true;
  const wanted = filter.toLowerCase();
  return texts.some((text) => (text || "").toLowerCase().includes(wanted));
}

/** The palette landmark. `lists` holds the models, agents and teams the user can see. */
export const Palette = memo(function Palette({ catalog, lists, hasSelection, isReadOnly, onPick }) {
  const [filter, setFilter] = useState("");
  const target = hasSelection ? "the selected agent" : "an agent";
  // Every list becomes entries of one shape; `search` holds the texts the filter looks in.
  const shown = (list, describe) =>
    list.map(describe).filter(({ search }) => matches(filter, ...search));

  const agentItems = shown(catalog.agent_kinds, (kind) => {
    const label = kind.label.replace(/\s*\(.*\)$/, "");
    return {
      key: kind.value,
      item: { type: "agent", kind: kind.value },
      label,
      help: kind.help,
      search: [label, kind.help],
    };
  });
  const agentTemplates = shown(
    lists.agents.filter((agent) => agent.is_gallery),
    (agent) => ({
      key: `agent-${agent.id}`,
      item: { type: "agent_template", id: agent.id },
      label: agent.name,
      detail: `gallery agent${agent.description ? `: ${agent.description}` : ""}`,
      help: agent.description,
      search: [agent.name, agent.description],
    }),
  );
  const teamTemplates = shown(lists.teams, (team) => ({
    key: `team-${team.id}`,
    item: { type: "team_template", id: team.id },
    label: team.name,
    detail: team.is_gallery ? "gallery team" : "your team",
    help: team.description,
    search: [team.name, team.description],
  }));
  const models = shown(lists.models, (model) => ({
    key: model.id,
    item: { type: "model", id: model.id },
    label: model.name,
    detail: modelDetail(model),
    search: [model.label || model.name, model.model],
  }));
  const tools = shown(catalog.tools, (tool) => ({
    key: tool.name,
    item: { type: "tool", name: tool.name },
    label: tool.name,
    help: tool.description,
    search: [tool.name, tool.description],
  }));
  const conditions = shown(catalog.conditions, (entry) => ({
    key: entry.type,
    item: { type: "condition", condition: entry.type },
    label: entry.label,
    help: entry.help,
    search: [entry.label, entry.help],
  }));
  const picking = { isDisabled: isReadOnly, onPick };

  return (
    <aside className="palette" aria-label="Palette">
      <div className="palette-head">
        <label htmlFor="palette-filter" className="visually-hidden">
          Find an item
        </label>
        <input
          id="palette-filter"
          type="search"
          placeholder="Filter…"
          value={filter}
          onChange={(event) => setFilter(event.target.value)}
        />
        <p className="muted small">
          Drag onto the canvas or an agent, or focus an item and press Enter.
        </p>
      </div>
      <Section title="Agents" entries={agentItems} {...picking} />
      <Section
        title="Templates"
        isOpenAtFirst={Boolean(filter)}
        key={filter ? "templates-filtered" : "templates"}
        entries={[...agentTemplates, ...teamTemplates]}
        hint="Gallery agents are copied in; a team becomes a nested team."
        {...picking}
      />
      <Section
        title="Models"
        entries={models}
        hint={`Drop on ${target} to give it the model.`}
        {...picking}
      />
      <Section
        title="Tools"
        entries={tools}
        hint={
          `Registered tools; drop on ${target}. MCP servers are not supported: ` +
          "register a Python tool that does the same."
        }
        {...picking}
      />
      <Section
        title="Termination"
        entries={conditions}
        hint={
          "Joins the team's stop conditions (with “or”); " +
          "dropped on an agent, it watches that agent."
        }
        {...picking}
      />
    </aside>
  );
});
