import { useId } from "react";
import { Field, SchemaField } from "./fields.jsx";
import {
  changeTeamKind,
  conditionType,
  graphEdges,
  isObject,
  modelSpecOf,
  newCondition,
  withGraphEdges,
} from "./spec.js";

/** One termination condition, its form made from the catalog's fields; and/or nest. */
function ConditionEditor({ catalog, condition, path, onChange, onRemove }) {
  const id = useId();
  const entry = conditionType(catalog, condition.type);
  const children = Array.isArray(condition.conditions) ? condition.conditions : [];
  const setField = (name) => (value) => {
    const next = { ...condition };
    if (value === undefined) delete next[name];
    else next[name] = value;
    onChange(next);
  };
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
          data-path={`${path}.type`}
          value={condition.type ?? ""}
          title={entry?.help}
          onChange={(event) => onChange(newCondition(catalog, event.target.value))}
        >
          {catalog.conditions.map((item) => (
            <option key={item.type} value={item.type} title={item.help}>
              {item.label}
            </option>
          ))}
          {!entry && <option value={condition.type ?? ""}>{String(condition.type ?? "?")}</option>}
        </select>
        <button type="button" className="small" onClick={onRemove} aria-label="Remove condition">
          ✕
        </button>
      </div>
      {entry?.help && <p className="hint small">{entry.help}</p>}
      {entry?.fields.map((field) => (
        <SchemaField
          key={field.name}
          id={`${id}-${field.name}`}
          path={`${path}.${field.name}`}
          field={field}
          value={condition[field.name]}
          onChange={setField(field.name)}
        />
      ))}
      {entry?.is_combinator && (
        <div className="children">
          {children.map((child, index) => (
            <ConditionEditor
              key={index}
              catalog={catalog}
              condition={isObject(child) ? child : { type: "" }}
              path={`${path}.conditions[${index}]`}
              onChange={(next) => setChild(index, next)}
              onRemove={() => setChild(index, null)}
            />
          ))}
          <button
            type="button"
            className="small"
            data-path={`${path}.conditions`}
            onClick={() =>
              onChange({ ...condition, conditions: [...children, starterLeaf(catalog)] })
            }
          >
            + Add condition
          </button>
        </div>
      )}
    </div>
  );
}

/** A leaf to start a new branch with: stop on TERMINATE when the catalog has that. */
function starterLeaf(catalog) {
  if (conditionType(catalog, "text_mention")) return { type: "text_mention", text: "TERMINATE" };
  const leaf = catalog.conditions.find((item) => !item.is_combinator);
  return newCondition(catalog, (leaf || catalog.conditions[0]).type);
}

function starterTermination(catalog) {
  const has = (type) => Boolean(conditionType(catalog, type));
  if (has("or") && has("text_mention") && has("max_messages")) {
    return {
      type: "or",
      conditions: [
        { type: "text_mention", text: "TERMINATE" },
        { type: "max_messages", max_messages: 10 },
      ],
    };
  }
  return newCondition(catalog, catalog.conditions[0].type);
}

function EdgeEnd({ id, path, label, value, names, onChange }) {
  const options = names.includes(value) ? names : [value, ...names];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} data-path={path} value={value ?? ""} onChange={onChange}>
        {options.map((name) => (
          <option key={name ?? ""} value={name ?? ""}>
            {name || "—"}
          </option>
        ))}
      </select>
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
        Drag from one node's handle to another's, or add edges here. An edge with a condition is
        followed only when the source's message contains that text.
      </p>
      {edges.map((edge, index) => (
        <div className="condition" key={index}>
          <div className="field-row">
            <EdgeEnd
              id={`edge-${index}-source`}
              path={`graph.edges[${index}].source`}
              label="From"
              value={edge.source}
              names={names}
              onChange={(event) => setEdge(index, { source: event.target.value })}
            />
            <EdgeEnd
              id={`edge-${index}-target`}
              path={`graph.edges[${index}].target`}
              label="To"
              value={edge.target}
              names={names}
              onChange={(event) => setEdge(index, { target: event.target.value })}
            />
          </div>
          <div className="field-row">
            <div className="field">
              <label htmlFor={`edge-${index}-condition`}>When the message contains</label>
              <input
                id={`edge-${index}-condition`}
                data-path={`graph.edges[${index}].condition`}
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
        data-path="graph.edges"
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

function Selector({ selector, models, onChange }) {
  const current = isObject(selector.model) ? selector.model : null;
  const listed = current && models.some((model) => model.id === current.id);
  return (
    <fieldset>
      <legend>Selector</legend>
      <Field id="selector-model" label="Model that picks the next speaker">
        <select
          id="selector-model"
          data-path="selector.model"
          value={current?.id ?? (current ? "inline" : "")}
          onChange={(event) => {
            const picked = models.find((model) => String(model.id) === event.target.value);
            onChange({ ...selector, model: picked ? modelSpecOf(picked) : null });
          }}
        >
          <option value="">— none —</option>
          {current && !listed && (
            <option value={current.id ?? "inline"}>
              {current.name || current.model || "this model"}
            </option>
          )}
          {models.map((model) => (
            <option key={model.id} value={model.id}>
              {model.name}
            </option>
          ))}
        </select>
      </Field>
      <Field id="selector-prompt" label="Selector prompt">
        <textarea
          id="selector-prompt"
          data-path="selector.prompt"
          rows={4}
          value={selector.prompt ?? ""}
          placeholder="Uses the default prompt when empty."
          onChange={(event) => onChange({ ...selector, prompt: event.target.value })}
        />
      </Field>
      <label className="checkbox">
        <input
          type="checkbox"
          data-path="selector.allow_repeated_speaker"
          checked={Boolean(selector.allow_repeated_speaker)}
          onChange={(event) =>
            onChange({ ...selector, allow_repeated_speaker: event.target.checked })
          }
        />
        Allow the same speaker twice in a row
      </label>
    </fieldset>
  );
}

/** Team-wide settings: name, kind, turn limits, termination, selector and graph. */
export function TeamSettings({ spec, catalog, names, models, isReadOnly, onChange }) {
  const set = (field) => (event) => onChange({ ...spec, [field]: event.target.value });
  const kindEntry = catalog.team_kinds.find((item) => item.value === spec.kind);
  return (
    <fieldset disabled={isReadOnly} className="team-settings">
      <legend>Team</legend>
      <Field id="team-name" label="Name">
        <input
          id="team-name"
          data-path="name"
          type="text"
          value={spec.name ?? ""}
          required
          onChange={set("name")}
        />
      </Field>
      <Field id="team-description" label="Description">
        <textarea
          id="team-description"
          data-path="description"
          rows={2}
          value={spec.description ?? ""}
          onChange={set("description")}
        />
      </Field>
      <Field id="team-kind" label="Kind" hint={kindEntry?.help}>
        <select
          id="team-kind"
          data-path="kind"
          value={spec.kind ?? ""}
          onChange={(event) => onChange(changeTeamKind(spec, event.target.value))}
        >
          {catalog.team_kinds.map((item) => (
            <option key={item.value} value={item.value}>
              {item.label}
            </option>
          ))}
          {!kindEntry && <option value={spec.kind ?? ""}>{String(spec.kind ?? "?")}</option>}
        </select>
      </Field>
      <Field
        id="team-max-turns"
        label="Max turns"
        hint="The run pauses after this many turns; empty means no limit."
      >
        <input
          id="team-max-turns"
          data-path="max_turns"
          type="number"
          min={1}
          value={spec.max_turns ?? ""}
          placeholder="no limit"
          onChange={(event) => {
            const raw = event.target.value;
            onChange({ ...spec, max_turns: raw === "" ? null : Math.trunc(Number(raw)) });
          }}
        />
      </Field>
      <fieldset>
        <legend>Termination</legend>
        {isObject(spec.termination) ? (
          <ConditionEditor
            catalog={catalog}
            condition={spec.termination}
            path="termination"
            onChange={(termination) => onChange({ ...spec, termination })}
            onRemove={() => onChange({ ...spec, termination: null })}
          />
        ) : (
          <>
            <p className="muted small">No termination condition: only max turns stop a run.</p>
            <button
              type="button"
              className="small"
              data-path="termination"
              onClick={() => onChange({ ...spec, termination: starterTermination(catalog) })}
            >
              + Add termination
            </button>
          </>
        )}
      </fieldset>
      {spec.kind === "selector" && (
        <Selector
          selector={isObject(spec.selector) ? spec.selector : {}}
          models={models}
          onChange={(selector) => onChange({ ...spec, selector })}
        />
      )}
      {spec.kind === "graph" && (
        <GraphEdges
          edges={graphEdges(spec)}
          names={names}
          onChange={(edges) => onChange(withGraphEdges(spec, edges))}
        />
      )}
    </fieldset>
  );
}
