import { useEffect, useState } from "react";
import { requestJson } from "../api.js";

function valueText(value) {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function Changes({ url }) {
  const [changes, setChanges] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    requestJson(url).then(
      (diff) => setChanges(diff.changes),
      (problem) => setError(problem.message),
    );
  }, [url]);
  if (error) return <p className="error-text">{error}</p>;
  if (!changes) return <p className="muted small">Loading the changes…</p>;
  if (!changes.length) return <p className="muted small">No changes to the spec.</p>;
  return (
    <ul className="changes">
      {changes.map((change) => (
        <li key={change.path}>
          <code>{change.path}</code>: <del>{valueText(change.old)}</del> →{" "}
          <ins>{valueText(change.new)}</ins>
        </li>
      ))}
    </ul>
  );
}

/** The team's saved versions, newest first: what changed in each, and restore. */
export function Versions({ url, currentVersion, canRestore, isDirty, onRestored }) {
  const [versions, setVersions] = useState(null);
  const [open, setOpen] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    requestJson(url).then(setVersions, (problem) => setError(problem.message));
  }, [url, currentVersion]);

  const restore = async (number) => {
    const warning = isDirty ? " Your unsaved changes stay in your draft, to restore after." : "";
    if (!window.confirm(`Restore version ${number}? It is saved as a new version.${warning}`)) {
      return;
    }
    try {
      await requestJson(`${url}/${number}/restore`, { method: "POST" });
      await onRestored();
    } catch (problem) {
      setError(problem.message);
    }
  };

  if (error) {
    return (
      <p className="notice notice-error" role="alert">
        {error}
      </p>
    );
  }
  if (!versions) return <p className="muted">Loading versions…</p>;
  return (
    <ol className="versions" aria-label="Versions">
      {versions.map((version) => (
        <li key={version.number} className="version">
          <div className="version-head">
            <strong>v{version.number}</strong>
            {version.number === currentVersion && <span className="tag">current</span>}
            <span className="small muted">
              {new Date(version.created_at).toLocaleString()}
              {version.created_by ? ` · ${version.created_by}` : ""}
            </span>
          </div>
          {version.note && <p className="small">{version.note}</p>}
          <div className="field-row">
            {version.number > 1 && (
              <button
                type="button"
                className="small"
                aria-expanded={open === version.number}
                onClick={() => setOpen(open === version.number ? null : version.number)}
              >
                {open === version.number ? "Hide changes" : "Changes"}
              </button>
            )}
            {canRestore && version.number !== currentVersion && (
              <button type="button" className="small" onClick={() => restore(version.number)}>
                Restore v{version.number}
              </button>
            )}
          </div>
          {open === version.number && <Changes url={`${url}/${version.number}/diff`} />}
        </li>
      ))}
    </ol>
  );
}
