import { useEffect, useId, useRef } from "react";
import { Field, SchemaField, TextInput, useFieldProblems, useProblemsUnder } from "./fields.jsx";
import { modelLabels } from "./Inspector.jsx";
import {
  changeTeamKind,
  conditionType,
  graphEdges,
  isObject,
  modelSpecOf,
  newCondition,
  withGraphEdges,
} from "./spec.js";

/**
 * One termination condition, its form made from the catalog's fields; and/or nest. Edits
 * are functions of the condition as it is when they land (`onUpdate(fn)`), so a value still
 * being typed elsewhere in the tree is never overwritten by an older copy.
 */
function ConditionEditor({ catalog, condition, path, onUpdate, onRemove }) {
  const id = useId();
  const entry = conditionType(catalog, condition.type);
  const children = Array.isArray(condition.conditions) ? condition.conditions : [];
  const setField = (name) => (value) =>
    onUpdate((current) => {
      const next = { ...current };
      if (value === undefined) delete next[name];
      else next[name] = value;
      return next;
    });
  const updateChild = (index) => (fn) =>
    onUpdate((current) => ({
      ...current,
      conditions: (current.conditions || []).map((child, i) => (i === index ? fn(child) : child)),
    }));
  const removeChild = (index) => () =>
    onUpdate((current) => ({
      ...current,
      conditions: (current.conditions || []).filter((_, i) => i !== index),
    }));
  const typeProblems = useFieldProblems(`${path}.type`);
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
          aria-invalid={typeProblems.length ? true : undefined}
          aria-describedby={typeProblems.length ? `${id}-type-problem` : undefined}
          onChange={(event) => {
            const type = event.target.value;
            onUpdate(() => newCondition(catalog, type));
          }}
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
      {typeProblems.length > 0 && (
        <div id={`${id}-type-problem`} className="field-problem">
          {typeProblems.join(" · ")}
        </div>
      )}
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
              onUpdate={updateChild(index)}
              onRemove={removeChild(index)}
            />
          ))}
          <button
            type="button"
            className="small"
            data-path={`${path}.conditions`}
            onClick={() =>
              onUpdate((current) => ({
                ...current,
                conditions: [...(current.conditions || []), starterLeaf(catalog)],
              }))
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

export function starterTermination(catalog) {
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
    <Field id={id} path={path} label={label}>
      <select id={id} data-path={path} value={value ?? ""} onChange={onChange}>
        {options.map((name) => (
          <option key={name ?? ""} value={name ?? ""}>
            {name || "—"}
          </option>
        ))}
      </select>
    </Field>
  );
}

/** One graph edge: its ends, when it is followed, and how its target waits. */
function GraphEdge({ edge, index, base, names, isSelected, onChange, onRemove }) {
  const ref = useRef(null);
  useEffect(() => {
    if (isSelected) ref.current?.scrollIntoView({ block: "nearest" });
  }, [isSelected]);
  const path = `${base}graph.edges[${index}]`;
  const id = `edge-${index}`;
  return (
    <div
      ref={ref}
      className={`condition graph-edge${isSelected ? " is-selected" : ""}`}
      role="group"
      aria-label={`Edge ${edge.source} to ${edge.target}`}
    >
      <div className="field-row">
        <EdgeEnd
          id={`${id}-source`}
          path={`${path}.source`}
          label="From"
          value={edge.source}
          names={names}
          onChange={(event) => onChange({ source: event.target.value })}
        />
        <EdgeEnd
          id={`${id}-target`}
          path={`${path}.target`}
          label="To"
          value={edge.target}
          names={names}
          onChange={(event) => onChange({ target: event.target.value })}
        />
      </div>
      <Field
        id={`${id}-condition`}
        path={`${path}.condition`}
        label="When the message contains"
        hint="Empty: always followed. Edges leaving one agent are all conditional or none."
      >
        <TextInput
          id={`${id}-condition`}
          data-path={`${path}.condition`}
          value={edge.condition ?? ""}
          placeholder="always"
          onCommit={(text) => onChange({ condition: text || null })}
        />
      </Field>
      <div className="field-row">
        <Field
          id={`${id}-activation`}
          path={`${path}.activation_condition`}
          label="Target runs when"
          hint="A target waits for the edges of its group."
        >
          <select
            id={`${id}-activation`}
            data-path={`${path}.activation_condition`}
            value={edge.activation_condition === "any" ? "any" : "all"}
            onChange={(event) => onChange({ activation_condition: event.target.value })}
          >
            <option value="all">all edges of its group fired</option>
            <option value="any">any edge of its group fired</option>
          </select>
        </Field>
        <Field id={`${id}-group`} path={`${path}.activation_group`} label="Activation group">
          <TextInput
            id={`${id}-group`}
            data-path={`${path}.activation_group`}
            value={edge.activation_group ?? ""}
            placeholder={edge.target || "the target"}
            onCommit={(text) => onChange({ activation_group: text || null })}
          />
        </Field>
      </div>
      <button
        type="button"
        className="small danger"
        aria-label={`Remove edge ${edge.source} to ${edge.target}`}
        onClick={onRemove}
      >
        Remove edge
      </button>
    </div>
  );
}

/** The graph's edges; `onUpdate(fn)` maps the edges as they are when the edit lands. */
function GraphEdges({ edges, base, names, selectedEdge, onUpdate }) {
  const setEdge = (index, patch) =>
    onUpdate((current) => current.map((edge, i) => (i === index ? { ...edge, ...patch } : edge)));
  return (
    <fieldset>
      <legend>Graph edges</legend>
      <p className="muted small">
        Drag from one node's handle to another's, or add edges here. After an agent speaks,
        each edge leaving it that is followed activates its target.
      </p>
      {edges.map((edge, index) => (
        <GraphEdge
          key={index}
          edge={edge}
          index={index}
          base={base}
          names={names}
          isSelected={selectedEdge === index}
          onChange={(patch) => setEdge(index, patch)}
          onRemove={() => onUpdate((current) => current.filter((_, i) => i !== index))}
        />
      ))}
      <button
        type="button"
        className="small"
        data-path={`${base}graph.edges`}
        disabled={names.length < 2}
        onClick={() =>
          onUpdate((current) => [
            ...current,
            { source: names[0], target: names[1], condition: null },
          ])
        }
      >
        + Add edge
      </button>
    </fieldset>
  );
}

/** The selector's settings; `onUpdate(fn)` maps them as they are when the edit lands. */
function Selector({ selector, base, models, onUpdate }) {
  const current = isObject(selector.model) ? selector.model : null;
  const listed = current && models.some((model) => model.id === current.id);
  const labels = modelLabels(models);
  return (
    <fieldset>
      <legend>Selector</legend>
      <Field
        id="selector-model"
        path={`${base}selector.model`}
        isCatchAll
        label="Model that picks the next speaker"
      >
        <select
          id="selector-model"
          data-path={`${base}selector.model`}
          value={current?.id ?? (current ? "inline" : "")}
          onChange={(event) => {
            const picked = models.find((model) => String(model.id) === event.target.value);
            const model = picked ? modelSpecOf(picked) : null;
            onUpdate((current) => ({ ...current, model }));
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
              {labels.get(model.id)}
            </option>
          ))}
        </select>
      </Field>
      <Field id="selector-prompt" path={`${base}selector.prompt`} label="Selector prompt">
        <TextInput
          id="selector-prompt"
          data-path={`${base}selector.prompt`}
          isMultiline
          rows={4}
          value={selector.prompt ?? ""}
          placeholder="Uses the default prompt when empty."
          onCommit={(prompt) => onUpdate((current) => ({ ...current, prompt }))}
        />
      </Field>
      <label className="checkbox">
        <input
          type="checkbox"
          data-path={`${base}selector.allow_repeated_speaker`}
          checked={Boolean(selector.allow_repeated_speaker)}
          onChange={(event) => {
            const isAllowed = event.target.checked;
            onUpdate((current) => ({ ...current, allow_repeated_speaker: isAllowed }));
          }}
        />
        Allow the same speaker twice in a row
      </label>
    </fieldset>
  );
}

const EDGE_FIELDS = ["source", "target", "condition", "activation_group", "activation_condition"];

/** Whether a field of this form shows the problem at `path` (inside the team) under it. */
function isShownAtField(path) {
  if (/^(name|description|kind|max_turns|termination)$/.test(path)) return true;
  if (/^selector\.(model|prompt)(\.|$)/.test(path)) return true;
  const edgeField = /^graph\.edges\[\d+\]\.([a-z_]+)$/.exec(path)?.[1];
  if (EDGE_FIELDS.includes(edgeField)) return true;
  // A condition's own fields; not a list of conditions or a whole condition.
  return /^termination(\.conditions\[\d+\])*\.(?!conditions$)[a-z_]+$/.test(path);
}

/** The team's problems that no field of the form shows (not its agents'), each a link to
 * the nearest input. */
function TeamProblems({ base, onPick }) {
  const own = useProblemsUnder(base.replace(/\.$/, ""), (item) => {
    const rest = item.path.slice(base.length);
    return (
      item.path.startsWith(base) &&
      !/^participants\[/.test(rest) &&
      !isShownAtField(rest)
    );
  });
  if (!own.length) return null;
  return (
    <div className="notice notice-error agent-problems" role="group" aria-label="Team problems">
      <strong>
        {own.length} problem{own.length === 1 ? "" : "s"}
      </strong>
      <ul className="problems">
        {own.map((item, index) => (
          <li key={index}>
            <button type="button" className="button-link" onClick={() => onPick(item)}>
              {item.path.slice(base.length) || "team"}
            </button>
            : {item.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Team-wide settings: name, kind, turn limits, termination, selector and graph. `base` is
 * the path in front of the team's fields ("" for the top team). */
export function TeamSettings({
  spec,
  base = "",
  catalog,
  names,
  models,
  isReadOnly,
  selectedEdge,
  onPatch,
  onPickProblem,
}) {
  // Edits name only the fields they change, applied to the team as it is when they land.
  const set = (field) => (value) => onPatch({ [field]: value });
  const kindEntry = catalog.team_kinds.find((item) => item.value === spec.kind);
  const terminationProblems = useFieldProblems(`${base}termination`);
  return (
    <fieldset disabled={isReadOnly} className="team-settings">
      <legend>Team</legend>
      <TeamProblems base={base} onPick={onPickProblem} />
      <Field id="team-name" path={`${base}name`} label="Name">
        <TextInput
          id="team-name"
          data-path={`${base}name`}
          value={spec.name ?? ""}
          required
          onCommit={set("name")}
        />
      </Field>
      <Field id="team-description" path={`${base}description`} label="Description">
        <TextInput
          id="team-description"
          data-path={`${base}description`}
          isMultiline
          rows={2}
          value={spec.description ?? ""}
          onCommit={set("description")}
        />
      </Field>
      <Field id="team-kind" path={`${base}kind`} label="Kind" hint={kindEntry?.help}>
        <select
          id="team-kind"
          data-path={`${base}kind`}
          value={spec.kind ?? ""}
          onChange={(event) => {
            const kind = event.target.value;
            onPatch((team) => changeTeamKind(team, kind));
          }}
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
        path={`${base}max_turns`}
        label="Max turns"
        hint="The run pauses after this many turns; empty means no limit."
      >
        <TextInput
          id="team-max-turns"
          data-path={`${base}max_turns`}
          type="number"
          min={1}
          value={Number.isFinite(spec.max_turns) ? String(spec.max_turns) : ""}
          placeholder="no limit"
          onCommit={(raw) => onPatch({ max_turns: raw === "" ? null : Math.trunc(Number(raw)) })}
        />
      </Field>
      <fieldset className={terminationProblems.length ? "has-problem" : undefined}>
        <legend>Termination</legend>
        {isObject(spec.termination) ? (
          <ConditionEditor
            catalog={catalog}
            condition={spec.termination}
            path={`${base}termination`}
            onUpdate={(fn) =>
              onPatch((team) => ({
                termination: fn(isObject(team.termination) ? team.termination : {}),
              }))
            }
            onRemove={() => onPatch({ termination: null })}
          />
        ) : (
          <>
            <p className="muted small">
              No termination condition: only max turns stop a run. Drop a condition from the
              palette on the canvas, or:
            </p>
            <button
              type="button"
              className="small"
              data-path={`${base}termination`}
              aria-invalid={terminationProblems.length ? true : undefined}
              aria-describedby={terminationProblems.length ? "termination-problem" : undefined}
              onClick={() => onPatch({ termination: starterTermination(catalog) })}
            >
              + Add termination
            </button>
          </>
        )}
        {terminationProblems.length > 0 && (
          <div id="termination-problem" className="field-problem">
            {terminationProblems.join(" · ")}
          </div>
        )}
      </fieldset>
      {spec.kind === "selector" && (
        <Selector
          selector={isObject(spec.selector) ? spec.selector : {}}
          base={base}
          models={models}
          onUpdate={(fn) =>
            onPatch((team) => ({ selector: fn(isObject(team.selector) ? team.selector : {}) }))
          }
        />
      )}
      {spec.kind === "graph" && (
        <GraphEdges
          edges={graphEdges(spec)}
          base={base}
          names={names}
          selectedEdge={selectedEdge}
          onUpdate={(fn) =>
            onPatch((team) => ({ graph: withGraphEdges(team, fn(graphEdges(team))).graph }))
          }
        />
      )}
    </fieldset>
  );
}
