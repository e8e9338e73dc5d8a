import { useEffect, useState } from "react";
import { requestJson } from "../api.js";
import { ShareDialog } from "../sharing/ShareDialog.jsx";

const KINDS = [
  { key: "teams", title: "Teams" },
  { key: "models", title: "Models" },
  { key: "credentials", title: "Credentials" },
];

/** What the user owns, each with a button that opens its share dialog. */
export function Sharing({ urls }) {
  const [owned, setOwned] = useState(null);
  const [error, setError] = useState("");
  const [sharing, setSharing] = useState(null);

  useEffect(() => {
    Promise.all(KINDS.map((kind) => requestJson(urls[kind.key]))).then(
      (lists) => {
        const mine = (items) => items.filter((item) => item.role === "owner" && !item.is_gallery);
        setOwned(Object.fromEntries(KINDS.map((kind, index) => [kind.key, mine(lists[index])])));
      },
      (problem) => setError(problem.message),
    );
  }, [urls]);

  const close = () => {
    const opener = sharing?.opener;
    setSharing(null);
    opener?.focus();
  };

  let body;
  if (error) {
    body = (
      <p className="notice notice-error" role="alert">
        Could not load what you own: {error} Reload the page to try again.
      </p>
    );
  } else if (owned === null) {
    body = <p className="muted">Loading what you own…</p>;
  } else if (KINDS.every((kind) => !owned[kind.key].length)) {
    body = (
      <p className="empty">
        You own nothing to share yet. Make a team on the Teams page, or a model on the Models
        page.
      </p>
    );
  } else {
    body = KINDS.filter((kind) => owned[kind.key].length).map((kind) => (
      <div key={kind.key} className="share-group">
        <h3 id={`share-${kind.key}`}>{kind.title}</h3>
        <ul className="owned-list" aria-labelledby={`share-${kind.key}`}>
          {owned[kind.key].map((item) => (
            <li key={item.id}>
              <span>{item.label || item.name}</span>
              <button
                type="button"
                className="small"
                aria-label={`Share ${item.name}`}
                onClick={(event) =>
                  setSharing({
                    url: `${urls[kind.key]}/${item.id}/shares`,
                    name: item.name,
                    opener: event.currentTarget,
                  })
                }
              >
                Share…
              </button>
            </li>
          ))}
        </ul>
      </div>
    ));
  }
  return (
    <section aria-labelledby="sharing-title" className="settings-section">
      <h2 id="sharing-title">Sharing</h2>
      <p className="muted">
        Share what you own with a person or a group: viewers can see, use and run it, editors can
        also change it. Only you can delete it or share it further.
      </p>
      {body}
      {sharing && <ShareDialog sharesUrl={sharing.url} name={sharing.name} onClose={close} />}
    </section>
  );
}
