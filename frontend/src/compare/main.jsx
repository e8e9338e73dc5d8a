import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { requestJson } from "../api.js";
import { formatCost, StatusBadge, TranscriptItem } from "../run/items.jsx";
import { applyEvent, initialTranscript } from "../run/transcript.js";

const PAGE = 1000;

/** Every persisted event of a run folded into a transcript, page by page. */
async function loadTranscript(eventsUrl) {
  let state = initialTranscript();
  let after = 0;
  for (;;) {
    const page = await requestJson(`${eventsUrl}?after=${after}&limit=${PAGE}`);
    for (const event of page) state = applyEvent(state, event);
    if (page.length < PAGE) return state;
    after = page[page.length - 1].seq;
  }
}

function Column({ run }) {
  const [state, setState] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    loadTranscript(run.events_url).then(setState, (problem) => setError(problem.message));
  }, [run.events_url]);
  const messages = state ? state.items.filter((item) => item.kind === "message").length : 0;
  return (
    <section className="compare-column" aria-label={`Run ${run.id}`}>
      <header className="card compare-head">
        <h2>
          <a href={run.page_url}>Run #{run.id}</a> <StatusBadge status={run.status} />
        </h2>
        <p className="small muted">
          {run.team} v{run.version} · {run.total_tokens.toLocaleString()} tokens ·{" "}
          {formatCost(run.cost_usd)}
          {state ? ` · ${messages} messages` : ""}
        </p>
        <p className="small">
          <strong>Task:</strong> {run.task}
        </p>
        {run.stop_reason && <p className="small muted">Stopped: {run.stop_reason}</p>}
      </header>
      {error && (
        <p className="notice notice-error" role="alert">
          {error}
        </p>
      )}
      {!state && !error && <p className="muted">Loading…</p>}
      {state && (
        <ol className="transcript compare-transcript" aria-label={`Transcript of run ${run.id}`}>
          {state.items.map((item, index) => (
            <li key={item.seq ?? `l${index}`}>
              <TranscriptItem item={item} humanNames={new Set()} onFork={null} />
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const root = document.getElementById("compare-root");
if (root) {
  const runs = JSON.parse(document.getElementById("compare-runs").textContent);
  createRoot(root).render(
    <div className="compare-grid">
      {runs.map((run) => (
        <Column key={run.id} run={run} />
      ))}
    </div>,
  );
}
