// The builder's banners: problems from a save, a check or a run, a stale-save conflict, and
// the offer to restore unsaved work.

/** "1 agent", "3 agents". */
export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** Problems with their spec paths; each path leads to its field. */
export function ProblemsPanel({ problems, onPick, onClose }) {
  if (!problems) return null;
  if (problems.isValid) {
    return (
      <div className="notice notice-ok problems-panel" role="status">
        No problems: the team can run.
        <button type="button" className="small" aria-label="Close" onClick={onClose}>
          ✕
        </button>
      </div>
    );
  }
  return (
    <section
      className="notice notice-error problems-panel"
      role="alert"
      aria-label="Problems found"
    >
      <div className="problems-head">
        <strong>{problems.message}</strong>
        <button type="button" className="small" aria-label="Close the problems" onClick={onClose}>
          ✕
        </button>
      </div>
      <ProblemList items={problems.items} onPick={onPick} />
    </section>
  );
}

/** A list of problems; each path is a button that shows its field. */
export function ProblemList({ items, onPick, label = "Problems" }) {
  return (
    <ul className="problems" aria-label={label}>
      {items.map((item, index) => (
        <li key={index}>
          <button type="button" className="button-link" onClick={() => onPick(item)}>
            <code>{item.path || "team"}</code>
          </button>
          : {item.message}
        </li>
      ))}
    </ul>
  );
}

/** Someone saved after the version these changes start from. */
export function ConflictNotice({ message, onReload }) {
  if (!message) return null;
  return (
    <div className="notice notice-error conflict" role="alert">
      <span>{message}</span>{" "}
      <button type="button" className="small" onClick={onReload}>
        Reload
      </button>
    </div>
  );
}

/** The caller's draft from an earlier visit: restore it or throw it away. */
export function DraftOffer({ draft, version, onRestore, onDiscard }) {
  if (!draft) return null;
  const when = new Date(draft.updated_at).toLocaleString();
  const isBehind = draft.base_version && version && draft.base_version !== version;
  return (
    <div className="notice notice-info draft-offer" role="region" aria-label="Unsaved changes">
      <span>You have unsaved changes from {when}: </span>
      <button type="button" className="small primary" onClick={onRestore}>
        Restore draft
      </button>{" "}
      <button type="button" className="small" onClick={onDiscard}>
        Discard draft
      </button>
      <div className="small">
        {isBehind
          ? `They start from version ${draft.base_version}; version ${version} was saved since, ` +
            "and saving them replaces it. "
          : ""}
        Editing the team now discards them.
      </div>
    </div>
  );
}
