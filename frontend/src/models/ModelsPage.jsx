import { useCallback, useEffect, useRef, useState } from "react";
import { errorText, requestJson } from "../api.js";
import { ShareDialog } from "../sharing/ShareDialog.jsx";

const PROVIDERS = [
  ["openai", "OpenAI"],
  ["anthropic", "Anthropic"],
  ["openai_compatible", "OpenAI-compatible (Ollama, vLLM, LM Studio)"],
  ["scripted", "Scripted (offline replies)"],
];
const PROVIDER_NAMES = Object.fromEntries(PROVIDERS);

function canEdit(item) {
  return item.role === "owner" || item.role === "editor";
}

function isOwn(item) {
  return item.role === "owner" && !item.is_gallery;
}

function whoseText(item) {
  if (item.is_gallery) return "gallery";
  return item.role === "owner" ? "you" : `${item.owner} (you: ${item.role})`;
}

function parseJson(text, what, fallback) {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${error.message}`);
  }
}

/** A modal form; `fields` renders the inputs, `onSubmit(form)` saves and may throw. */
function FormDialog({ title, onSubmit, onClose, children }) {
  const dialogRef = useRef(null);
  const [error, setError] = useState("");
  const [isSaving, setSaving] = useState(false);
  useEffect(() => {
    dialogRef.current.showModal();
  }, []);
  const submit = async (event) => {
    event.preventDefault();
    setSaving(true);
    setError("");
    try {
      await onSubmit(new FormData(event.target));
      dialogRef.current.close();
    } catch (problem) {
      setError(errorText(problem));
      setSaving(false);
    }
  };
  return (
    <dialog ref={dialogRef} onClose={onClose} aria-labelledby="form-dialog-title">
      <form onSubmit={submit}>
        <h2 id="form-dialog-title">{title}</h2>
        {children}
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialogRef.current.close()}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={isSaving}>
            Save
          </button>
        </div>
      </form>
    </dialog>
  );
}

function TextField({ name, label, defaultValue = "", hint, type = "text", ...rest }) {
  const id = `field-${name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} defaultValue={defaultValue} {...rest} />
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}

function ProviderField({ defaultValue }) {
  return (
    <div className="field">
      <label htmlFor="field-provider">Provider</label>
      <select id="field-provider" name="provider" defaultValue={defaultValue || "openai"}>
        {PROVIDERS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

function CredentialForm({ credential, url, onSaved, onClose }) {
  const save = async (form) => {
    const body = {
      name: String(form.get("name")).trim(),
      provider: form.get("provider"),
      base_url: String(form.get("base_url")).trim(),
      key_env_var: String(form.get("key_env_var")).trim(),
    };
    const key = String(form.get("api_key"));
    if (key || !credential) body.api_key = key;
    await requestJson(credential ? `${url}/${credential.id}` : url, {
      method: credential ? "PUT" : "POST",
      body,
    });
    onSaved();
  };
  return (
    <FormDialog
      title={credential ? `Edit ${credential.name}` : "New credential"}
      onSubmit={save}
      onClose={onClose}
    >
      <TextField name="name" label="Name" defaultValue={credential?.name} required />
      <ProviderField defaultValue={credential?.provider} />
      <TextField
        name="base_url"
        label="Base URL"
        type="url"
        defaultValue={credential?.base_url}
        hint="Only for OpenAI-compatible servers, or to reach a provider through a proxy."
      />
      <TextField
        name="api_key"
        label="API key"
        type="password"
        autoComplete="off"
        hint={
          credential?.has_key
            ? "A key is stored. Leave empty to keep it; it is never shown again."
            : "Stored encrypted on the server and never shown again."
        }
      />
      <TextField
        name="key_env_var"
        label="…or read the key from this server environment variable"
        defaultValue={credential?.key_env_var}
        placeholder="OPENAI_API_KEY"
      />
    </FormDialog>
  );
}

function ModelForm({ model, credentials, url, onSaved, onClose }) {
  const save = async (form) => {
    const credential = form.get("credential");
    const body = {
      name: String(form.get("name")).trim(),
      provider: form.get("provider"),
      model: String(form.get("model")).trim(),
      credential: credential ? Number(credential) : null,
      base_url: String(form.get("base_url")).trim(),
      params: parseJson(String(form.get("params")), "Parameters", {}),
      price_input_per_million: Number(form.get("price_input_per_million")) || 0,
      price_output_per_million: Number(form.get("price_output_per_million")) || 0,
      scripted_replies: parseJson(String(form.get("scripted_replies")), "Scripted replies", []),
    };
    await requestJson(model ? `${url}/${model.id}` : url, {
      method: model ? "PUT" : "POST",
      body,
    });
    onSaved();
  };
  return (
    <FormDialog title={model ? `Edit ${model.name}` : "New model"} onSubmit={save} onClose={onClose}>
      <TextField name="name" label="Name" defaultValue={model?.name} required />
      <ProviderField defaultValue={model?.provider} />
      <TextField
        name="model"
        label="Model name"
        defaultValue={model?.model}
        placeholder="gpt-4o-mini, claude-3-5-haiku-latest, llama3.2…"
      />
      <div className="field">
        <label htmlFor="field-credential">Credential</label>
        <select id="field-credential" name="credential" defaultValue={model?.credential ?? ""}>
          <option value="">— none —</option>
          {credentials.map((credential) => (
            <option key={credential.id} value={credential.id}>
              {credential.label}
            </option>
          ))}
        </select>
      </div>
      <TextField
        name="base_url"
        label="Base URL"
        type="url"
        defaultValue={model?.base_url}
        hint="Overrides the credential's base URL."
      />
      <div className="field-row">
        <TextField
          name="price_input_per_million"
          label="Input $ / million tokens"
          type="number"
          step="any"
          min="0"
          defaultValue={model?.price_input_per_million ?? 0}
        />
        <TextField
          name="price_output_per_million"
          label="Output $ / million tokens"
          type="number"
          step="any"
          min="0"
          defaultValue={model?.price_output_per_million ?? 0}
        />
      </div>
      <div className="field">
        <label htmlFor="field-params">Parameters (JSON)</label>
        <textarea
          id="field-params"
          name="params"
          rows={3}
          className="code-small"
          defaultValue={JSON.stringify(model?.params ?? {}, null, 2)}
        />
        <div className="hint">temperature, max_tokens, … (scripted models: delay in seconds)</div>
      </div>
      <div className="field">
        <label htmlFor="field-scripted-replies">Scripted replies (JSON list)</label>
        <textarea
          id="field-scripted-replies"
          name="scripted_replies"
          rows={3}
          className="code-small"
          defaultValue={JSON.stringify(model?.scripted_replies ?? [], null, 2)}
        />
        <div className="hint">Only for the scripted provider: the replies, in order.</div>
      </div>
    </FormDialog>
  );
}

/** The buttons of one row: edit (editors), share and delete (the owner). */
function RowActions({ item, what, onEdit, onShare, onDelete }) {
  return (
    <div className="row-buttons">
      {canEdit(item) && (
        <button
          type="button"
          className="small"
          aria-label={`Edit ${what} ${item.name}`}
          onClick={onEdit}
        >
          Edit
        </button>
      )}
      {isOwn(item) && (
        <>
          <button
            type="button"
            className="small"
            aria-label={`Share ${what} ${item.name}`}
            onClick={onShare}
          >
            Share…
          </button>
          <button
            type="button"
            className="small danger"
            aria-label={`Delete ${what} ${item.name}`}
            onClick={onDelete}
          >
            Delete
          </button>
        </>
      )}
    </div>
  );
}

/**
 * Models and credentials: list them, add them, attach credentials to models, share and
 * delete them (a delete the server refuses says why: something still uses it).
 */
export function ModelsPage({ modelsUrl, credentialsUrl }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState(null);
  const [editing, setEditing] = useState(null);
  const [sharing, setSharing] = useState(null);

  const load = useCallback(async () => {
    try {
      const [models, credentials] = await Promise.all([
        requestJson(modelsUrl),
        requestJson(credentialsUrl),
      ]);
      setData({ models, credentials });
    } catch (problem) {
      setError(problem.message);
    }
  }, [modelsUrl, credentialsUrl]);

  useEffect(() => {
    load();
  }, [load]);

  const remove = async (item, what, url) => {
    if (!window.confirm(`Delete ${what} “${item.name}”? This cannot be undone.`)) return;
    try {
      await requestJson(`${url}/${item.id}`, { method: "DELETE" });
      setNotice({ kind: "ok", text: `Deleted ${what} “${item.name}”.` });
      await load();
    } catch (problem) {
      setNotice({ kind: "error", text: `Could not delete ${what} “${item.name}”: ${problem.message}` });
    }
  };
  const share = (item, url, event) =>
    setSharing({ url: `${url}/${item.id}/shares`, name: item.name, opener: event.currentTarget });
  const closeSharing = () => {
    sharing?.opener?.focus();
    setSharing(null);
  };

  if (error) {
    return (
      <p className="notice notice-error" role="alert">
        Could not load your models and credentials: {error} Reload the page to try again.
      </p>
    );
  }
  if (!data) return <p className="muted">Loading models and credentials…</p>;
  const credentialNames = new Map(data.credentials.map((c) => [c.id, c.name]));
  const ownModels = data.models.filter((model) => !model.is_gallery);
  const close = () => setEditing(null);

  return (
    <>
      <div aria-live="polite">
        {notice && (
          <p
            className={`notice notice-${notice.kind === "ok" ? "ok" : "error"}`}
            role={notice.kind === "ok" ? "status" : "alert"}
            data-testid="models-notice"
          >
            {notice.text}{" "}
            <button type="button" className="button-link" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </p>
        )}
      </div>
      <section aria-labelledby="models-title">
        <div className="page-head">
          <h2 id="models-title">Models</h2>
          <div className="actions">
            <button type="button" className="primary" onClick={() => setEditing({ kind: "model" })}>
              New model
            </button>
          </div>
        </div>
        {ownModels.length ? (
          <table className="list stack" aria-label="Models">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Provider</th>
                <th scope="col">Model</th>
                <th scope="col">Credential</th>
                <th scope="col">Owner</th>
                <th scope="col" className="number">$ in / out per M</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {ownModels.map((model) => (
                <tr key={model.id}>
                  <td data-label="Name">
                    {model.name}
                    {model.label.includes(" · ") && (
                      <div className="small muted">{model.label.split(" · ").slice(1).join(" · ")}</div>
                    )}
                  </td>
                  <td data-label="Provider">{PROVIDER_NAMES[model.provider] || model.provider}</td>
                  <td data-label="Model">{model.model || "—"}</td>
                  <td data-label="Credential">
                    {model.credential
                      ? credentialNames.get(model.credential) || `#${model.credential}`
                      : model.provider === "scripted"
                        ? "not needed"
                        : "none"}
                  </td>
                  <td data-label="Owner">{whoseText(model)}</td>
                  <td data-label="$ in / out per M" className="number">
                    {model.price_input_per_million} / {model.price_output_per_million}
                  </td>
                  <td className="row-actions">
                    <RowActions
                      item={model}
                      what="model"
                      onEdit={() => setEditing({ kind: "model", item: model })}
                      onShare={(event) => share(model, modelsUrl, event)}
                      onDelete={() => remove(model, "model", modelsUrl)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="empty">
            No models of your own yet. Copying a gallery team copies its models; add one here to
            use a provider of your choice.
          </p>
        )}
      </section>
      <section aria-labelledby="credentials-title" className="spaced-section">
        <div className="page-head">
          <h2 id="credentials-title">Credentials</h2>
          <div className="actions">
            <button type="button" onClick={() => setEditing({ kind: "credential" })}>
              New credential
            </button>
          </div>
        </div>
        {data.credentials.length ? (
          <table className="list stack" aria-label="Credentials">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Provider</th>
                <th scope="col">Base URL</th>
                <th scope="col">Key</th>
                <th scope="col">Owner</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.credentials.map((credential) => (
                <tr key={credential.id}>
                  <td data-label="Name">{credential.name}</td>
                  <td data-label="Provider">
                    {PROVIDER_NAMES[credential.provider] || credential.provider}
                  </td>
                  <td data-label="Base URL" className="break">
                    {credential.base_url || "—"}
                  </td>
                  <td data-label="Key">
                    {credential.key_env_var
                      ? `from $${credential.key_env_var}`
                      : credential.has_key
                        ? "stored (hidden)"
                        : "none"}
                  </td>
                  <td data-label="Owner">{whoseText(credential)}</td>
                  <td className="row-actions">
                    <RowActions
                      item={credential}
                      what="credential"
                      onEdit={() => setEditing({ kind: "credential", item: credential })}
                      onShare={(event) => share(credential, credentialsUrl, event)}
                      onDelete={() => remove(credential, "credential", credentialsUrl)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="empty">No credentials yet. Add one with your provider's API key.</p>
        )}
      </section>
      {editing?.kind === "model" && (
        <ModelForm
          model={editing.item}
          credentials={data.credentials}
          url={modelsUrl}
          onSaved={load}
          onClose={close}
        />
      )}
      {editing?.kind === "credential" && (
        <CredentialForm
          credential={editing.item}
          url={credentialsUrl}
          onSaved={load}
          onClose={close}
        />
      )}
      {sharing && <ShareDialog sharesUrl={sharing.url} name={sharing.name} onClose={closeSharing} />}
    </>
  );
}
