import { useEffect, useState } from "react";
import { isObject } from "./spec.js";

/** The whole team spec as JSON, editable: Apply replaces the builder's spec with it. */
export function JsonTab({ spec, isReadOnly, onApply }) {
  const [text, setText] = useState(() => JSON.stringify(spec, null, 2));
  const [error, setError] = useState("");
  const [isEditing, setEditing] = useState(false);
  useEffect(() => {
    if (!isEditing) setText(JSON.stringify(spec, null, 2));
  }, [spec, isEditing]);
  const apply = () => {
    let data;
    try {
      data = JSON.parse(text);
    } catch (problem) {
      setError(`The JSON does not parse: ${problem.message}`);
      return;
    }
    if (!isObject(data) || !Array.isArray(data.participants ?? [])) {
      setError('Expected a team spec: an object whose "participants" is a list.');
      return;
    }
    onApply(data);
    setError("");
    setEditing(false);
  };
  return (
    <div>
      <div className="field">
        <label htmlFor="team-json">The team spec as JSON</label>
        <textarea
          id="team-json"
          className="code"
          spellCheck={false}
          value={text}
          readOnly={isReadOnly}
          onChange={(event) => {
            setEditing(true);
            setText(event.target.value);
          }}
        />
        <div className="hint">Its JSON Schema is in the catalog (GET /api/teams/catalog).</div>
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {!isReadOnly && (
        <div className="field-row">
          <button type="button" onClick={apply} disabled={!isEditing}>
            Apply JSON
          </button>
          <button
            type="button"
            onClick={() => {
              setEditing(false);
              setError("");
            }}
            disabled={!isEditing}
          >
            Discard edits
          </button>
        </div>
      )}
    </div>
  );
}
