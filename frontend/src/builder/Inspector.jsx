import { memo, useMemo } from "react";
import { Field, SchemaField, TextInput, useFieldProblems, useProblemsUnder } from "./fields.jsx";
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

function shortLabel(model) {
  return `${model.name} (${model.provider}${model.model ? `: ${model.model}` : ""})`;
}

/** Option labels for the models: `name (provider: model)`; where two would read alike, the
 * first keeps it and the others take the server's longer label (whose, which teams). */
export function modelLabels(models) {
  const seen = new Set();
  return new Map(
    models.map((model) => {
      const short = shortLabel(model);
      if (!seen.has(short)) {
        seen.add(short);
        return [model.id, short];
      }
      const long = model.label && model.label !== short ? model.label : `${short} #${model.id}`;
      return [model.id, long];
    }),
  );
}

function ModelSelect({ field, path, value, models, providers, onChange }) {
  const current = isObject(value) ? value : null;
  const isListed = current && models.some((model) => model.id === current.id);
  const provider = current && providers.find((item) => item.value === current.provider);
  const labels = useMemo(() => modelLabels(models), [models]);
  const hint = [
    field.help,
    provider && `${provider.label}: ${provider.help}`,
    "Drop a model from the palette on the agent, or pick one here.",
    "Models are set up on the Models page.",
  ];
  return (
    <Field
      id="agent-model"
      path={path}
      isCatchAll
      label={field.label}
      hint={hint.filter(Boolean).join(" ")}
    >
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
            {labels.get(model.id)}
          </option>
        ))}
      </select>
    </Field>
  );
}

function Checklist({ id, legend, path, options, chosen, hint, empty, describe, onChange }) {
  const names = [...options, ...chosen.filter((name) => !options.includes(name))];
  const messages = useFieldProblems(path, true);
  const problemId = messages.length ? `${id}-problem` : undefined;
  return (
    <fieldset className={messages.length ? "has-problem" : undefined}>
      <legend>{legend}</legend>
      {hint && <p className="muted small">{hint}</p>}
      {names.length ? (
        <div className="chip-list">
          {names.map((name, index) => {
            const position = chosen.indexOf(name);
            // Each chosen item answers for its own path; the first box for the whole list.
            let itemPath = position >= 0 ? `${path}[${position}]` : undefined;
            if (index === 0 && position < 0) itemPath = path;
            const isUnknown = !options.includes(name);
            return (
              <label key={name} className="checkbox" title={describe?.(name)}>
                <input
                  type="checkbox"
                  data-path={itemPath}
                  checked={position >= 0}
                  aria-invalid={isUnknown && messages.length ? true : undefined}
                  aria-describedby={problemId}
                  onChange={() => onChange(toggle(chosen, name))}
                />
                {name}
                {isUnknown && <span className="muted small"> (unknown)</span>}
              </label>
            );
          })}
        </div>
      ) : (
        <p className="muted small">{empty}</p>
      )}
      {problemId && (
        <div id={problemId} className="field-problem">
          {messages.join(" · ")}
        </div>
      )}
    </fieldset>
  );
}

function InnerTeam({ field, path, value, teams, onPick, onOpen }) {
  const current = isObject(value) ? value : null;
  const isListed = current && teams.some((team) => team.id === current.id);
  const count = Array.isArray(current?.participants) ? current.participants.length : 0;
  const inner = useProblemsUnder(path).length;
  return (
    <>
      <Field
        id="agent-team"
        path={path}
        label="Inner team"
        hint={
          current
            ? `${current.name || "Unnamed"}: ${count} participant${count === 1 ? "" : "s"}. ` +
              "Open it to edit it on the canvas, or start it from one of your teams."
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
      {current && (
        <p>
          <button type="button" onClick={onOpen}>
            Open inner team
          </button>
          {inner > 0 && (
            <span className="error-text small">
              {" "}
              ⚠ {inner} problem{inner === 1 ? "" : "s"} inside
            </span>
          )}
        </p>
      )}
    </>
  );
}

/** The agent's own problems, each a link to its field. */
/** The agent's problems that no field of its form shows (about the agent as a whole, or a
 * field its kind does not have), each a link to the nearest input. */
function AgentProblems({ base, fieldNames, onPick }) {
  const mine = useProblemsUnder(base, (item) => {
    const field = /^\.([A-Za-z_]+)/.exec(item.path.slice(base.length))?.[1];
    return !field || !fieldNames.includes(field);
  });
  if (!mine.length) return null;
  return (
    <div className="notice notice-error agent-problems" role="group" aria-label="Agent problems">
      <strong>
        {mine.length} problem{mine.length === 1 ? "" : "s"}
      </strong>
      <ul className="problems">
        {mine.map((item, index) => (
          <li key={index}>
            <button type="button" className="button-link" onClick={() => onPick(item)}>
              {item.path.slice(base.length + 1) || "agent"}
            </button>
            : {item.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Edits the selected participant; its fields are the catalog's fields for its kind. */
export const Inspector = memo(function Inspector({
  participant,
  index,
  base,
  seatCount,
  catalog,
  teamKind,
  otherNames,
  models,
  teams,
  isReadOnly,
  onPatch,
  onRename,
  onKindChange,
  onPickTeam,
  onOpenInner,
  onMove,
  onRemove,
  onDuplicate,
  onPickProblem,
}) {
  if (!participant) {
    return (
      <p className="muted">
        Select an agent on the canvas to edit it, or drag one from the palette onto the canvas
        (or focus it in the palette and press Enter).
      </p>
    );
  }
  const kind = catalog.agent_kinds.find((item) => item.value === participant.kind);
  // Edits name only the field they change, applied to the agent as it is when they land.
  const set = (name) => (value) => onPatch({ [name]: value });

  const render = (field) => {
    const path = `${base}.${field.name}`;
    const value = participant[field.name];
    switch (field.name) {
      case "name":
        return (
          <Field
            key="name"
            id="agent-name"
            path={path}
            label={field.label}
            hint={field.help || undefined}
          >
            <TextInput
              id="agent-name"
              data-path={path}
              value={typeof value === "string" ? value : ""}
              pattern={NAME_PATTERN}
              required
              onCommit={onRename}
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
            onOpen={onOpenInner}
          />
        );
      case "tools":
        return (
          <Checklist
            key="tools"
            id="agent-tools"
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
            id="agent-handoffs"
            legend={field.label}
            path={path}
            options={otherNames}
            chosen={Array.isArray(value) ? value : []}
            hint={
              teamKind === "swarm"
                ? "Or draw an edge from this agent to another on the canvas."
                : "Handoffs decide who speaks next in swarm teams."
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
      <AgentProblems
        base={base}
        fieldNames={["kind", ...fields.map((field) => field.name)]}
        onPick={onPickProblem}
      />
      {render(nameField)}
      <Field id="agent-kind" path={`${base}.kind`} label="Kind" hint={kind?.help}>
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
      <div className="field-row">
        <button type="button" onClick={onDuplicate}>
          Duplicate
        </button>
        <button type="button" className="danger" onClick={onRemove}>
          Remove from team
        </button>
      </div>
    </fieldset>
  );
});
