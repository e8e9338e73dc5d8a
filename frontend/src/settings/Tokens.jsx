import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { formatDate } from "../dates.js";

/** The token just issued: the only time its secret is on screen. */
function IssuedToken({ issued, onDone }) {
  const fieldRef = useRef(null);
  const [copied, setCopied] = useState("");
  useEffect(() => {
    fieldRef.current.focus();
    fieldRef.current.select();
  }, []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied("Copied to the clipboard.");
    } catch {
      fieldRef.current.select();
      setCopied("Copying was refused: press Ctrl+C (⌘C) to copy the selected token.");
    }
  };
  return (
    <section className="card issued-token" aria-labelledby="issued-title">
      <h3 id="issued-title">Token “{issued.name || issued.prefix}” created</h3>
      <p>
        Copy it now: this is the only time it is shown. Scripts send it as{" "}
        <code>Authorization: Bearer &lt;token&gt;</code>.
      </p>
      <div className="copy-row">
        <label htmlFor="issued-token" className="visually-hidden">
          New API token
        </label>
        <input
          id="issued-token"
          ref={fieldRef}
          type="text"
          readOnly
          value={issued.token}
          className="code-small"
          data-testid="issued-token"
        />
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
      <p className="small muted" role="status">
        {copied}
      </p>
    </section>
  );
}

/** API tokens: create one (shown once), list them, revoke them. */
export function Tokens({ tokensUrl, apiDocsUrl }) {
  const [tokens, setTokens] = useState(null);
  const [loadError, setLoadError] = useState("");
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [issued, setIssued] = useState(null);
  const [isCreating, setCreating] = useState(false);
  const nameRef = useRef(null);

  const load = useCallback(async () => {
    try {
      setTokens(await requestJson(tokensUrl));
      setLoadError("");
    } catch (problem) {
      setLoadError(problem.message);
    }
  }, [tokensUrl]);

  useEffect(() => {
    load();
  }, [load]);

  const create = async (event) => {
    event.preventDefault();
    setCreating(true);
    setError("");
    setStatus("");
    try {
      const name = nameRef.current.value.trim();
      setIssued(await requestJson(tokensUrl, { method: "POST", body: { name } }));
      event.target.reset();
      await load();
    } catch (problem) {
      setError(`Could not create the token: ${problem.message}`);
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (token) => {
    const label = token.name || `${token.prefix}…`;
    if (!window.confirm(`Revoke “${label}”? Scripts using it will be refused from now on.`)) {
      return;
    }
    setError("");
    try {
      await requestJson(`${tokensUrl}/${token.id}`, { method: "DELETE" });
      if (issued?.id === token.id) setIssued(null);
      setStatus(`Revoked “${label}”.`);
      await load();
    } catch (problem) {
      setError(`Could not revoke “${label}”: ${problem.message} Reload the page and try again.`);
    }
  };

  return (
    <section aria-labelledby="tokens-title" className="settings-section">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">
        Tokens let scripts use the <a href={apiDocsUrl}>API</a> as you. Each one works until you
        revoke it; give each script its own so you can revoke one without the others.
      </p>
      <form className="inline-form" onSubmit={create}>
        <div className="field grow">
          <label htmlFor="token-name">Name of a new token</label>
          <input
            id="token-name"
            ref={nameRef}
            type="text"
            maxLength={100}
            placeholder="nightly export script"
            autoComplete="off"
          />
        </div>
        <button type="submit" className="primary" disabled={isCreating}>
          {isCreating ? "Creating…" : "Create token"}
        </button>
      </form>
      {issued && <IssuedToken issued={issued} onDone={() => setIssued(null)} />}
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      <p className="small muted" role="status">
        {status}
      </p>
      {loadError ? (
        <p className="notice notice-error" role="alert">
          Could not load your tokens: {loadError} Reload the page to try again.
        </p>
      ) : tokens === null ? (
        <p className="muted">Loading your tokens…</p>
      ) : tokens.length === 0 ? (
        <p className="empty">No tokens yet. Create one above when a script needs the API.</p>
      ) : (
        <table className="list stack" aria-label="API tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Starts with</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id} data-testid="token-row">
                <td data-label="Name">{token.name || <span className="muted">unnamed</span>}</td>
                <td data-label="Starts with">
                  <code>{token.prefix}…</code>
                </td>
                <td data-label="Created">{formatDate(token.created_at)}</td>
                <td data-label="Last used">{formatDate(token.last_used_at, "never")}</td>
                <td className="row-actions">
                  <button
                    type="button"
                    className="small danger"
                    onClick={() => revoke(token)}
                    aria-label={`Revoke token ${token.name || token.prefix}`}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
