import { AGENT_KINDS } from "./draft.js";

const NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]{0,63}";

function Field({ id, label, hint, children }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}

function toggle(list, value) {
  return list.includes(value) ? list.filter((item) => item !== value) : [...list, value];
}

/** Edits the selected agent: name, kind, prompt, model, tools, handoffs and options. */
export function Inspector({
  agent,
  seat,
  seatCount,
  teamKind,
  otherNames,
  models,
  tools,
  teams,
  isReadOnly,
  onChange,
  onMove,
  onRemove,
}) {
  if (!agent) {
    return (
      <p className="muted">
        Select an agent on the canvas to edit it, or add one with <strong>Add agent</strong>.
      </p>
    );
  }
  const set = (field) => (event) => {
    const target = event.target;
    let value = target.type === "checkbox" ? target.checked : target.value;
    if (field === "model" || field === "team") value = value ? Number(value) : null;
    if (field === "max_tool_iterations") value = Number(value);
    onChange({ [field]: value });
  };
  const isAssistant = agent.kind === "assistant";
  const isNested = agent.kind === "team";
  const isSharedAgent =
    !isReadOnly && agent.role && agent.role !== "owner" && agent.role !== "editor";

  return (
    <fieldset disabled={isReadOnly} className="inspector">
      <legend>Agent</legend>
      {isSharedAgent && (
        <p className="notice notice-info">
          This agent belongs to someone else: changes to it cannot be saved.
        </p>
      )}
      <Field id="agent-name" label="Name" hint="Letters, digits and underscores.">
        <input
          id="agent-name"
          type="text"
          value={agent.name}
          pattern={NAME_PATTERN}
          required
          onChange={set("name")}
        />
      </Field>
      <Field id="agent-kind" label="Kind">
        <select id="agent-kind" value={agent.kind} onChange={set("kind")}>
          {AGENT_KINDS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </Field>
      <Field
        id="agent-description"
        label="Description"
        hint="What others (and selectors) read about this agent."
      >
        <textarea
          id="agent-description"
          rows={2}
          value={agent.description}
          onChange={set("description")}
        />
      </Field>
      {isAssistant && (
        <Field id="agent-system-message" label="System message">
          <textarea
            id="agent-system-message"
            rows={7}
            value={agent.system_message}
            onChange={set("system_message")}
          />
        </Field>
      )}
      {(isAssistant || isNested) && (
        <Field
          id="agent-model"
          label="Model"
          hint={isNested ? "Optional: summarises the inner team's conversation." : undefined}
        >
          <select id="agent-model" value={agent.model ?? ""} onChange={set("model")}>
            <option value="">— none —</option>
            {models.map((model) => (
              <option key={model.id} value={model.id}>
                {model.name} ({model.provider}
                {model.model ? `: ${model.model}` : ""})
              </option>
            ))}
          </select>
        </Field>
      )}
      {isNested && (
        <>
          <Field id="agent-team" label="Inner team">
            <select id="agent-team" value={agent.team ?? ""} onChange={set("team")}>
              <option value="">— choose a team —</option>
              {teams.map((team) => (
                <option key={team.id} value={team.id}>
                  {team.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="agent-instruction" label="Instruction">
            <textarea
              id="agent-instruction"
              rows={2}
              value={agent.instruction}
              onChange={set("instruction")}
            />
          </Field>
          <Field id="agent-response-prompt" label="Response prompt">
            <textarea
              id="agent-response-prompt"
              rows={2}
              value={agent.response_prompt}
              onChange={set("response_prompt")}
            />
          </Field>
        </>
      )}
      {isAssistant && (
        <fieldset>
          <legend>Tools</legend>
          {tools.length ? (
            <div className="chip-list">
              {tools.map((tool) => (
                <label key={tool.name} className="checkbox" title={tool.description}>
                  <input
                    type="checkbox"
                    checked={agent.tools.includes(tool.name)}
                    onChange={() => onChange({ tools: toggle(agent.tools, tool.name) })}
                  />
                  {tool.name}
                </label>
              ))}
            </div>
          ) : (
            <p className="muted small">No tools are registered on the server.</p>
          )}
        </fieldset>
      )}
      {(isAssistant || agent.kind === "user_proxy") && (
        <fieldset>
          <legend>Handoffs</legend>
          {teamKind !== "swarm" && (
            <p className="muted small">Handoffs decide who speaks next in swarm teams.</p>
          )}
          {otherNames.length ? (
            <div className="chip-list">
              {otherNames.map((name) => (
                <label key={name} className="checkbox">
                  <input
                    type="checkbox"
                    checked={agent.handoffs.includes(name)}
                    onChange={() => onChange({ handoffs: toggle(agent.handoffs, name) })}
                  />
                  {name}
                </label>
              ))}
            </div>
          ) : (
            <p className="muted small">Add another agent to hand off to.</p>
          )}
        </fieldset>
      )}
      {isAssistant && (
        <fieldset>
          <legend>Options</legend>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={agent.reflect_on_tool_use}
              onChange={set("reflect_on_tool_use")}
            />
            Reflect on tool results with another model call
          </label>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={agent.model_client_stream}
              onChange={set("model_client_stream")}
            />
            Stream tokens while the model writes
          </label>
          <div className="field spaced">
            <label htmlFor="agent-max-tool-iterations">Max tool iterations</label>
            <input
              id="agent-max-tool-iterations"
              type="number"
              min={1}
              max={50}
              value={agent.max_tool_iterations}
              onChange={set("max_tool_iterations")}
            />
          </div>
        </fieldset>
      )}
      <div className="field-row">
        <button type="button" onClick={() => onMove(-1)} disabled={seat <= 0}>
          ↑ Earlier seat
        </button>
        <button type="button" onClick={() => onMove(1)} disabled={seat >= seatCount - 1}>
          ↓ Later seat
        </button>
      </div>
      <p>
        <button type="button" className="danger" onClick={onRemove}>
          Remove from team
        </button>
      </p>
    </fieldset>
  );
}
