import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";

// Who a team, model or credential is shared with, and sharing it with more people.
// The API (studio/teams/api.py, add_share_routes): GET/POST {sharesUrl}, DELETE {sharesUrl}/{id}.

const ROLE_HELP = {
  viewer: "Viewer: can see it, use it and run it",
  editor: "Editor: can also change it",
};

const KIND_NOTES = {
  credentials: "People you share a credential with can use its key in their models; nobody ever sees the key.",
  models: "People you share a model with can use it in their teams; its credential goes with it only if you share that too.",
  teams: "Sharing a team does not share the models its agents use: share those too if others should run it with your keys.",
};

/** Which kind of thing a shares URL is about ("teams", "models", …), for the hint. */
function kindOf(sharesUrl) {
  const match = /\/api\/(\w+)\/\d+\/shares/.exec(sharesUrl);
  return match ? match[1] : "";
}

function ShareList({ shares, onRemove, onRole, busyId }) {
  if (!shares.length) {
    return <p className="muted small">Only you have access so far.</p>;
  }
  return (
    <ul className="share-list" aria-label="People and groups with access">
      {shares.map((share) => {
        const who = share.user ? share.user : `group ${share.group}`;
        return (
          <li key={share.id}>
            <span className="share-who">
              {share.user ? share.user : <>Group <strong>{share.group}</strong></>}
            </span>
            <select
              aria-label={`Role of ${who}`}
              value={share.role}
              disabled={busyId === share.id}
              onChange={(event) => onRole(share, event.target.value)}
            >
              <option value="viewer">viewer</option>
              <option value="editor">editor</option>
            </select>
            <button
              type="button"
              className="small danger"
              onClick={() => onRemove(share)}
              disabled={busyId === share.id}
              aria-label={`Stop sharing with ${who}`}
            >
              Stop sharing
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/**
 * A modal that lists who `name` is shared with and shares it with a user or group.
 * `sharesUrl` is the object's shares collection; `onClose` runs after the dialog closes.
 */
export function ShareDialog({ sharesUrl, name, onClose }) {
  const dialogRef = useRef(null);
  const inputRef = useRef(null);
  const [shares, setShares] = useState(null);
  const [loadError, setLoadError] = useState("");
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [isSaving, setSaving] = useState(false);
  const [busyId, setBusyId] = useState(null);
  const kind = kindOf(sharesUrl);

  const load = useCallback(async () => {
    try {
      setShares(await requestJson(sharesUrl));
      setLoadError("");
    } catch (problem) {
      setLoadError(problem.message);
    }
  }, [sharesUrl]);

  useEffect(() => {
    dialogRef.current.showModal();
    load();
  }, [load]);

  const add = async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const who = String(form.get("who") || "").trim();
    const target = form.get("kind");
    if (!who) {
      setError(`Type the ${target === "group" ? "group's name" : "person's username"} first.`);
      inputRef.current.focus();
      return;
    }
    setSaving(true);
    setError("");
    try {
      await requestJson(sharesUrl, {
        method: "POST",
        body: { [target]: who, role: form.get("role") },
      });
      event.target.reset();
      setStatus(`Shared with ${target === "group" ? `group ${who}` : who}.`);
      await load();
    } catch (problem) {
      // A request that never got an answer (the network) has no problems and no status.
      const detail = (problem.problems || []).map((item) => item.message).join("; ");
      const spelling =
        target === "group" ? "the group must exist" : "the person needs an account here";
      const hint = problem.status === 422 ? ` Check the spelling: ${spelling}.` : "";
      setError(`${detail || problem.message}.${hint}`);
    } finally {
      setSaving(false);
      inputRef.current?.focus();
    }
  };

  const changeRole = async (share, role) => {
    setBusyId(share.id);
    setError("");
    try {
      const target = share.user ? { user: share.user } : { group: share.group };
      await requestJson(sharesUrl, { method: "POST", body: { ...target, role } });
      setStatus(`${share.user || `Group ${share.group}`} is now ${role === "editor" ? "an editor" : "a viewer"}.`);
      await load();
    } catch (problem) {
      setError(`Could not change the role: ${problem.message} Reload the page and try again.`);
    } finally {
      setBusyId(null);
    }
  };

  const remove = async (share) => {
    setBusyId(share.id);
    setError("");
    try {
      await requestJson(`${sharesUrl}/${share.id}`, { method: "DELETE" });
      setStatus(`Stopped sharing with ${share.user || `group ${share.group}`}.`);
      await load();
    } catch (problem) {
      setError(`Could not stop sharing: ${problem.message} Reload the page and try again.`);
    } finally {
      setBusyId(null);
    }
  };

  return (
    <dialog
      ref={dialogRef}
      onClose={onClose}
      className="share-dialog"
      aria-labelledby="share-dialog-title"
    >
      <h2 id="share-dialog-title">Share {name}</h2>
      {KIND_NOTES[kind] && <p className="muted small">{KIND_NOTES[kind]}</p>}
      <section aria-label="Who has access" aria-busy={shares === null}>
        {loadError ? (
          <p className="notice notice-error" role="alert">
            Could not load who has access: {loadError} Close this and try again.
          </p>
        ) : shares === null ? (
          <p className="muted small">Loading who has access…</p>
        ) : (
          <ShareList shares={shares} onRemove={remove} onRole={changeRole} busyId={busyId} />
        )}
      </section>
      <form onSubmit={add} className="share-form">
        <div className="field-row">
          <div className="field">
            <label htmlFor="share-kind">Share with</label>
            <select id="share-kind" name="kind" defaultValue="user">
              <option value="user">A person</option>
              <option value="group">A group</option>
            </select>
          </div>
          <div className="field grow">
            <label htmlFor="share-who">Username or group name</label>
            <input
              id="share-who"
              name="who"
              type="text"
              ref={inputRef}
              autoComplete="off"
              maxLength={150}
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor="share-role">Role</label>
          <select id="share-role" name="role" defaultValue="viewer">
            {Object.entries(ROLE_HELP).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <p className="small status-text" role="status">
          {status}
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={() => dialogRef.current.close()}>
            Done
          </button>
          <button type="submit" className="primary" disabled={isSaving}>
            {isSaving ? "Sharing…" : "Share"}
          </button>
        </div>
      </form>
    </dialog>
  );
}
