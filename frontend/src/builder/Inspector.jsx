import { Field, SchemaField } from "./fields.jsx";
import { isObject, modelSpecOf } from "./spec.js";

const NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]{0,63}";
const NAME_FIELD = { name: "name", label: "Name", help: "", schema: { type: "string" } };
const ROWS = { system_message: 7, description: 2, instruction: 2, response_prompt: 2 };

function toggle(list, value) {
  return list.includes(value) ? list.filter((item) => item !== value) : [...list, value];
}

function inputId(name) {
  return `agent-${name.replace(/_/g, "-")}`;
}

function ModelSelect({ field, path, value, models, providers, onChange }) {
  const current = isObject(value) ? value : null;
  const isListed = current && models.some((model) => model.id === current.id);
  const provider = current && providers.find((item) => item.value === current.provider);
  const hint = [
    field.help,
    provider && `${provider.label}: ${provider.help}`,
    "Models are set up on the Models page.",
  ];
  return (
    <Field id="agent-model" label={field.label} hint={hint.filter(Boolean).join(" ")}>
      <select
        id="agent-model"
        data-path={path}
        value={current ? String(current.id ?? "inline") : ""}
        onChange={(event) => {
          const picked = models.find((model) => String(model.id) === event.target.value);
          if (picked) onChange(modelSpecOf(picked));
          else if (!event.target.value) onChange(null);
        }}
      >
        <option value="">— none —</option>
        {current && !isListed && (
          <option value={String(current.id ?? "inline")}>
            {current.name || current.model || "this model"} ({current.provider})
          </option>
        )}
        {models.map((model) => (
          <option key={model.id} value={String(model.id)}>
            {model.name} ({model.provider}
            {model.model ? `: ${model.model}` : ""})
          </option>
        ))}
      </select>
    </Field>
  );
}

function Checklist({ legend, path, options, chosen, hint, empty, describe, onChange }) {
  const names = [...options, ...chosen.filter((name) => !options.includes(name))];
  return (
    <fieldset>
      <legend>{legend}</legend>
      {hint && <p className="muted small">{hint}</p>}
      {names.length ? (
        <div className="chip-list">
          {names.map((name, index) => {
            const position = chosen.indexOf(name);
            // Each chosen item answers for its own path; the first box for the whole list.
            let itemPath = position >= 0 ? `${path}[${position}]` : undefined;
            if (index === 0 && position < 0) itemPath = path;
            return (
              <label key={name} className="checkbox" title={describe?.(name)}>
                <input
                  type="checkbox"
                  data-path={itemPath}
                  checked={position >= 0}
                  onChange={() => onChange(toggle(chosen, name))}
                />
                {name}
                {!options.includes(name) && <span className="muted small"> (unknown)</span>}
              </label>
            );
          })}
        </div>
      ) : (
        <p className="muted small">{empty}</p>
      )}
    </fieldset>
  );
}

function InnerTeam({ field, path, value, teams, onPick }) {
  const current = isObject(value) ? value : null;
  const isListed = current && teams.some((team) => team.id === current.id);
  const count = Array.isArray(current?.participants) ? current.participants.length : 0;
  return (
    <Field
      id="agent-team"
      label="Inner team"
      hint={
        current
          ? `${current.name || "Unnamed"}: ${count} participant${count === 1 ? "" : "s"}. ` +
            "Edit it in the JSON tab or on its own page."
          : field.help || undefined
      }
    >
      <select
        id="agent-team"
        data-path={path}
        value={current ? String(current.id ?? "inline") : ""}
        onChange={(event) => onPick(event.target.value ? Number(event.target.value) : null)}
      >
        <option value="">— choose a team —</option>
        {current && !isListed && (
          <option value={String(current.id ?? "inline")}>{current.name || "this team"}</option>
        )}
        {teams.map((team) => (
          <option key={team.id} value={String(team.id)}>
            {team.name}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** Edits the selected participant; its fields are the catalog's fields for its kind. */
export function Inspector({
  participant,
  index,
  seatCount,
  catalog,
  teamKind,
  otherNames,
  models,
  teams,
  isReadOnly,
  onChange,
  onRename,
  onKindChange,
  onPickTeam,
  onMove,
  onRemove,
}) {
  if (!participant) {
    return (
      <p className="muted">
        Select an agent on the canvas to edit it, or add one with <strong>Add agent</strong>.
      </p>
    );
  }
  const base = `participants[${index}]`;
  const kind = catalog.agent_kinds.find((item) => item.value === participant.kind);
  const set = (name) => (value) => {
    const next = { ...participant };
    if (value === undefined) delete next[name];
    else next[name] = value;
    onChange(next);
  };

  const render = (field) => {
    const path = `${base}.${field.name}`;
    const value = participant[field.name];
    switch (field.name) {
      case "name":
        return (
          <Field key="name" id="agent-name" label={field.label} hint={field.help || undefined}>
            <input
              id="agent-name"
              data-path={path}
              type="text"
              value={typeof value === "string" ? value : ""}
              pattern={NAME_PATTERN}
              required
              onChange={(event) => onRename(event.target.value)}
            />
          </Field>
        );
      case "model":
        return (
          <ModelSelect
            key="model"
            field={field}
            path={path}
            value={value}
            models={models}
            providers={catalog.providers}
            onChange={set("model")}
          />
        );
      case "team":
        return (
          <InnerTeam
            key="team"
            field={field}
            path={path}
            value={value}
            teams={teams}
            onPick={onPickTeam}
          />
        );
      case "tools":
        return (
          <Checklist
            key="tools"
            legend={field.label}
            path={path}
            options={catalog.tools.map((tool) => tool.name)}
            chosen={Array.isArray(value) ? value : []}
            describe={(name) => catalog.tools.find((tool) => tool.name === name)?.description}
            empty="No tools are registered on the server."
            onChange={set("tools")}
          />
        );
      case "handoffs":
        return (
          <Checklist
            key="handoffs"
            legend={field.label}
            path={path}
            options={otherNames}
            chosen={Array.isArray(value) ? value : []}
            hint={
              teamKind === "swarm" ? undefined : "Handoffs decide who speaks next in swarm teams."
            }
            empty="Add another agent to hand off to."
            onChange={set("handoffs")}
          />
        );
      default:
        return (
          <SchemaField
            key={field.name}
            id={inputId(field.name)}
            path={path}
            field={field}
            value={value}
            rows={ROWS[field.name]}
            onChange={set(field.name)}
          />
        );
    }
  };

  const fields = kind?.fields || [NAME_FIELD];
  const nameField = fields.find((field) => field.name === "name") || NAME_FIELD;

  return (
    <fieldset disabled={isReadOnly} className="inspector">
      <legend>Agent</legend>
      {render(nameField)}
      <Field id="agent-kind" label="Kind" hint={kind?.help}>
        <select
          id="agent-kind"
          data-path={`${base}.kind`}
          value={participant.kind ?? ""}
          onChange={(event) => onKindChange(event.target.value)}
        >
          {catalog.agent_kinds.map((item) => (
            <option key={item.value} value={item.value}>
              {item.label}
            </option>
          ))}
          {!kind && (
            <option value={participant.kind ?? ""}>{String(participant.kind ?? "?")}</option>
          )}
        </select>
      </Field>
      {fields.filter((field) => field.name !== "name").map(render)}
      <div className="field-row">
        <button type="button" onClick={() => onMove(-1)} disabled={index <= 0}>
          ↑ Earlier seat
        </button>
        <button type="button" onClick={() => onMove(1)} disabled={index >= seatCount - 1}>
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
