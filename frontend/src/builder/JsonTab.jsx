import { useEffect, useRef, useState } from "react";
import { checkSchema } from "./schema.js";
import { isObject } from "./spec.js";

const APPLY_DELAY_MS = 400;

function format(spec) {
  return JSON.stringify(spec, null, 2);
}

/** Where in the text a JSON.parse error points, as "line L, column C" when it says. */
function parseErrorText(problem, text) {
  const match = /position (\d+)/.exec(problem.message);
  if (!match) return problem.message;
  const before = text.slice(0, Number(match[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${problem.message} (line ${line}, column ${column})`;
}

/**
 * The whole team spec as JSON, both ways: the canvas's edits show here, and JSON typed here
 * that parses and fits the spec's JSON Schema (from the catalog) replaces the spec as you
 * type. JSON that parses but does not fit lists why, and can still be applied (unsaved work
 * may be unfinished; saving refuses it).
 */
export function JsonTab({ spec, schema, isReadOnly, onApply }) {
  const [text, setText] = useState(() => format(spec));
  const [isEditing, setEditing] = useState(false);
  const [error, setError] = useState("");
  const [problems, setProblems] = useState([]);
  const [unfitting, setUnfitting] = useState(null);
  const timer = useRef(null);
  const applied = useRef(null);

  useEffect(() => {
    if (!isEditing && spec !== applied.current) setText(format(spec));
  }, [spec, isEditing]);
  useEffect(() => () => clearTimeout(timer.current), []);

  const evaluate = (raw) => {
    clearTimeout(timer.current);
    let data;
    try {
      data = JSON.parse(raw);
    } catch (problem) {
      setError(`The JSON does not parse: ${parseErrorText(problem, raw)}`);
      setProblems([]);
      setUnfitting(null);
      return false;
    }
    if (!isObject(data) || !Array.isArray(data.participants ?? [])) {
      setError('Expected a team spec: an object whose "participants" is a list.');
      setProblems([]);
      setUnfitting(null);
      return false;
    }
    setError("");
    const found = checkSchema(data, schema);
    setProblems(found);
    if (found.length) {
      setUnfitting(data);
      return false;
    }
    setUnfitting(null);
    applied.current = data;
    onApply(data);
    return true;
  };

  const describedBy = [error && "json-error", problems.length && "json-problems", "json-hint"]
    .filter(Boolean)
    .join(" ");
  return (
    <div className="json-tab">
      <div className="field">
        <label htmlFor="team-json">The team spec as JSON</label>
        <textarea
          id="team-json"
          className="code"
          spellCheck={false}
          data-native-undo
          value={text}
          readOnly={isReadOnly}
          aria-invalid={error || problems.length ? true : undefined}
          aria-describedby={describedBy}
          onChange={(event) => {
            const raw = event.target.value;
            setEditing(true);
            setText(raw);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => {
              if (evaluate(raw)) setEditing(document.activeElement?.id === "team-json");
            }, APPLY_DELAY_MS);
          }}
          onBlur={() => {
            if (isEditing && evaluate(text)) setEditing(false);
          }}
        />
        <div id="json-hint" className="hint">
          Edits apply as you type when the JSON fits the spec's JSON Schema (GET
          /api/teams/catalog); canvas edits show here.
        </div>
      </div>
      {error && (
        <p id="json-error" className="error-text" role="alert">
          {error}
        </p>
      )}
      {problems.length > 0 && (
        <div id="json-problems" className="notice notice-error" role="alert">
          <strong>
            Not applied: {problems.length} place{problems.length === 1 ? "" : "s"} where the JSON
            does not fit the spec.
          </strong>
          <ul className="problems" aria-label="JSON problems">
            {problems.slice(0, 50).map((item, index) => (
              <li key={index}>
                <code>{item.path || "spec"}</code>: {item.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {!isReadOnly && (isEditing || unfitting) && (
        <div className="field-row">
          {unfitting && (
            <button
              type="button"
              onClick={() => {
                applied.current = unfitting;
                onApply(unfitting);
                setUnfitting(null);
                setProblems([]);
                setEditing(false);
              }}
            >
              Apply anyway
            </button>
          )}
          <button
            type="button"
            onClick={() => {
              clearTimeout(timer.current);
              setEditing(false);
              setError("");
              setProblems([]);
              setUnfitting(null);
              applied.current = null;
              setText(format(spec));
            }}
          >
            Discard JSON edits
          </button>
        </div>
      )}
    </div>
  );
}
