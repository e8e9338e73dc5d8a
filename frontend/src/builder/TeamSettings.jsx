import { useId } from "react";
import { TEAM_KINDS } from "./draft.js";

// Condition types and their fields; mirrors CONDITION_FIELDS in studio/teams/specs.py.
const CONDITIONS = {
  max_messages: {
    label: "Max messages",
    fields: [["max_messages", "Messages", "int", 10]],
  },
  text_mention: {
    label: "Text mentioned",
    fields: [
      ["text", "Text", "text", "TERMINATE"],
      ["sources", "Only from (comma separated)", "list", []],
    ],
  },
  token_usage: {
    label: "Token usage",
    fields: [
      ["max_total_tokens", "Max total tokens", "int", 10000],
      ["max_prompt_tokens", "Max prompt tokens", "int", null],
      ["max_completion_tokens", "Max completion tokens", "int", null],
    ],
  },
  cost: { label: "Cost (USD)", fields: [["max_cost_usd", "Max cost in USD", "float", 1]] },
  timeout: { label: "Timeout", fields: [["timeout_seconds", "Seconds", "float", 300]] },
  handoff: { label: "Handoff to", fields: [["target", "Target", "text", "user"]] },
  source_match: {
    label: "Source spoke",
    fields: [["sources", "Sources (comma separated)", "list", []]],
  },
  function_call: {
    label: "Function called",
    fields: [["function_name", "Function name", "text", ""]],
  },
  text_message: { label: "Text message", fields: [["source", "From (optional)", "text", ""]] },
  stop_message: { label: "Stop message", fields: [] },
  external: { label: "Stopped from outside", fields: [] },
  or: { label: "Any of (or)", fields: [] },
  and: { label: "All of (and)", fields: [] },
};

function newCondition(type) {
  if (type === "or" || type === "and") {
    return { type, conditions: [{ type: "max_messages", max_messages: 10 }] };
  }
  const condition = { type };
  for (const [name, , , initial] of CONDITIONS[type].fields) {
    if (initial !== null && initial !== "") condition[name] = initial;
  }
  return condition;
}

function parseValue(kind, raw) {
  if (kind === "int") return raw === "" ? null : Math.trunc(Number(raw));
  if (kind === "float") return raw === "" ? null : Number(raw);
  if (kind === "list") {
    return raw
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
  }
  return raw;
}

function ConditionEditor({ condition, onChange, onRemove, depth }) {
  const id = useId();
  const spec = CONDITIONS[condition.type];
  const isGroup = condition.type === "or" || condition.type === "and";
  const setField = (name, kind) => (event) => {
    const value = parseValue(kind, event.target.value);
    const next = { ...condition };
    if (value === null || value === "" || (Array.isArray(value) && !value.length)) {
      delete next[name];
    } else {
      next[name] = value;
    }
    onChange(next);
  };
  const children = condition.conditions || [];
  const setChild = (index, child) => {
    const next = children.slice();
    if (child) next[index] = child;
    else next.splice(index, 1);
    onChange({ ...condition, conditions: next });
  };
  return (
    <div className="condition" data-testid="condition">
      <div className="condition-head">
        <label htmlFor={`${id}-type`} className="visually-hidden">
          Condition type
        </label>
        <select
          id={`${id}-type`}
          value={condition.type}
          onChange={(event) => onChange(newCondition(event.target.value))}
        >
          {Object.entries(CONDITIONS).map(([type, item]) => (
            <option key={type} value={type} disabled={depth > 2 && (type === "or" || type === "and")}>
              {item.label}
            </option>
          ))}
          {!spec && <option value={condition.type}>{condition.type}</option>}
        </select>
        <button type="button" className="small" onClick={onRemove} aria-label="Remove condition">
          ✕
        </button>
      </div>
      {spec &&
        spec.fields.map(([name, label, kind]) => {
          const value = condition[name];
          const shown = Array.isArray(value) ? value.join(", ") : (value ?? "");
          return (
            <div className="field" key={name}>
              <label htmlFor={`${id}-${name}`}>{label}</label>
              <input
                id={`${id}-${name}`}
                type={kind === "int" || kind === "float" ? "number" : "text"}
                step={kind === "float" ? "any" : undefined}
                value={shown}
                onChange={setField(name, kind)}
              />
            </div>
          );
        })}
      {isGroup && (
        <div className="children">
          {children.map((child, index) => (
            <ConditionEditor
              key={index}
              condition={child}
              depth={depth + 1}
              onChange={(next) => setChild(index, next)}
              onRemove={() => setChild(index, null)}
            />
          ))}
          <button
            type="button"
            className="small"
            onClick={() =>
              onChange({
                ...condition,
                conditions: [...children, { type: "text_mention", text: "TERMINATE" }],
              })
            }
          >
            + Add condition
          </button>
        </div>
      )}
    </div>
  );
}

function GraphEdges({ edges, names, onChange }) {
  const setEdge = (index, patch) => {
    const next = edges.slice();
    next[index] = { ...next[index], ...patch };
    onChange(next);
  };
  return (
    <fieldset>
      <legend>Graph edges</legend>
      <p className="muted small">
        Drag from one node's right handle to another's left handle, or add edges here. An edge
        with a condition is followed only when the source's message contains that text.
      </p>
      {edges.map((edge, index) => (
        <div className="condition" key={index}>
          <div className="field-row">
            <div className="field">
              <label htmlFor={`edge-${index}-source`}>From</label>
              <select
                id={`edge-${index}-source`}
                value={edge.source}
                onChange={(event) => setEdge(index, { source: event.target.value })}
              >
                {names.map((name) => (
                  <option key={name}>{name}</option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`edge-${index}-target`}>To</label>
              <select
                id={`edge-${index}-target`}
                value={edge.target}
                onChange={(event) => setEdge(index, { target: event.target.value })}
              >
                {names.map((name) => (
                  <option key={name}>{name}</option>
                ))}
              </select>
            </div>
          </div>
          <div className="field-row">
            <div className="field">
              <label htmlFor={`edge-${index}-condition`}>When the message contains</label>
              <input
                id={`edge-${index}-condition`}
                type="text"
                value={edge.condition || ""}
                placeholder="always"
                onChange={(event) => setEdge(index, { condition: event.target.value || null })}
              />
            </div>
            <button
              type="button"
              className="small danger"
              aria-label={`Remove edge ${edge.source} to ${edge.target}`}
              onClick={() => onChange(edges.filter((_, i) => i !== index))}
            >
              Remove
            </button>
          </div>
        </div>
      ))}
      <button
        type="button"
        className="small"
        disabled={names.length < 2}
        onClick={() =>
          onChange([...edges, { source: names[0], target: names[1], condition: null }])
        }
      >
        + Add edge
      </button>
    </fieldset>
  );
}

/** Team-wide settings: name, kind, turn limits, termination, selector and graph. */
export function TeamSettings({ team, names, models, isReadOnly, onChange }) {
  const set = (field) => (event) => {
    const target = event.target;
    let value = target.type === "checkbox" ? target.checked : target.value;
    if (field === "max_turns") value = value === "" ? null : Math.max(1, Number(value));
    if (field === "selector_model") value = value ? Number(value) : null;
    onChange({ [field]: value });
  };
  return (
    <fieldset disabled={isReadOnly} className="team-settings">
      <legend>Team</legend>
      <div className="field">
        <label htmlFor="team-name">Name</label>
        <input id="team-name" type="text" value={team.name} required onChange={set("name")} />
      </div>
      <div className="field">
        <label htmlFor="team-description">Description</label>
        <textarea
          id="team-description"
          rows={2}
          value={team.description}
          onChange={set("description")}
        />
      </div>
      <div className="field">
        <label htmlFor="team-kind">Kind</label>
        <select id="team-kind" value={team.kind} onChange={set("kind")}>
          {TEAM_KINDS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="team-max-turns">Max turns</label>
        <input
          id="team-max-turns"
          type="number"
          min={1}
          value={team.max_turns ?? ""}
          placeholder="no limit"
          onChange={set("max_turns")}
        />
        <div className="hint">The run pauses after this many turns; empty means no limit.</div>
      </div>
      <fieldset>
        <legend>Termination</legend>
        {team.termination ? (
          <ConditionEditor
            condition={team.termination}
            depth={0}
            onChange={(termination) => onChange({ termination })}
            onRemove={() => onChange({ termination: null })}
          />
        ) : (
          <>
            <p className="muted small">No termination condition: only max turns stop a run.</p>
            <button
              type="button"
              className="small"
              onClick={() =>
                onChange({
                  termination: {
                    type: "or",
                    conditions: [
                      { type: "text_mention", text: "TERMINATE" },
                      { type: "max_messages", max_messages: 10 },
                    ],
                  },
                })
              }
            >
              + Add termination
            </button>
          </>
        )}
      </fieldset>
      {team.kind === "selector" && (
        <fieldset>
          <legend>Selector</legend>
          <div className="field">
            <label htmlFor="selector-model">Model that picks the next speaker</label>
            <select
              id="selector-model"
              value={team.selector_model ?? ""}
              onChange={set("selector_model")}
            >
              <option value="">— none —</option>
              {models.map((model) => (
                <option key={model.id} value={model.id}>
                  {model.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="selector-prompt">Selector prompt</label>
            <textarea
              id="selector-prompt"
              rows={4}
              value={team.selector_prompt}
              placeholder="Uses the default prompt when empty."
              onChange={set("selector_prompt")}
            />
          </div>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={team.allow_repeated_speaker}
              onChange={set("allow_repeated_speaker")}
            />
            Allow the same speaker twice in a row
          </label>
        </fieldset>
      )}
      {team.kind === "graph" && (
        <GraphEdges
          edges={team.graph_edges}
          names={names}
          onChange={(graph_edges) => onChange({ graph_edges })}
        />
      )}
    </fieldset>
  );
}
