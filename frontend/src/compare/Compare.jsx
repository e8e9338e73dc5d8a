import { useEffect, useState } from "react";
import { requestJson } from "../api.js";
import { formatCost, StatusBadge, TranscriptItem } from "../run/items.jsx";
import { applyEvent, initialTranscript } from "../run/transcript.js";
import { formatDuration } from "../run/durations.js";
import { alignTurns, spanBetween, turnsOf, turnTokens } from "./align.js";

const PAGE = 1000;
const NO_HUMANS = new Set();

/** Every persisted event of a run folded into a transcript, with each turn's model usage. */
async function loadRun(eventsUrl) {
  let state = initialTranscript();
  const usageBySeq = new Map();
  let after = 0;
  for (;;) {
    const page = await requestJson(`${eventsUrl}?after=${after}&limit=${PAGE}`);
    for (const event of page) {
      state = applyEvent(state, event);
      const usage = event.data && event.data.models_usage;
      if (usage) usageBySeq.set(event.seq, usage);
    }
    if (page.length < PAGE) return turnsOf(state.items, usageBySeq);
    after = page[page.length - 1].seq;
  }
}

function RunSummary({ run, turns, side }) {
  const duration = spanBetween(run.started_at, run.finished_at);
  return (
    <section className={`card compare-head side-${side}`} aria-label={`Run ${run.id}`}>
      <h2>
        <a href={run.page_url}>Run #{run.id}</a> <StatusBadge status={run.status} />
      </h2>
      <p className="small muted">
        {run.team} v{run.version}
      </p>
      <dl className="meter compare-meter">
        <dt>Tokens</dt>
        <dd data-testid="compare-tokens">{run.total_tokens.toLocaleString()}</dd>
        <dt>Cost</dt>
        <dd>{formatCost(run.cost_usd)}</dd>
        <dt>Duration</dt>
        <dd data-testid="compare-duration">
          {duration === null ? (run.finished_at ? "—" : "still running") : formatDuration(duration)}
        </dd>
        <dt>Turns</dt>
        <dd>{turns ? turns.length : "…"}</dd>
      </dl>
      <p className="small compare-task">
        <strong>Task:</strong> {run.task}
      </p>
      {run.stop_reason && <p className="small muted">Stopped: {run.stop_reason}</p>}
    </section>
  );
}

function TurnCell({ turn, run, previousAt, index }) {
  if (!turn) {
    return (
      <div className="turn-side turn-missing" aria-label={`Run ${run.id}, turn ${index + 1}`}>
        <p className="muted small">Run #{run.id} has no turn {index + 1}: it had stopped.</p>
      </div>
    );
  }
  const tokens = turnTokens(turn.usage);
  const gap = spanBetween(previousAt, turn.item.at);
  return (
    <div className="turn-side" aria-label={`Run ${run.id}, turn ${index + 1}`}>
      <p className="turn-meta small muted">
        <span className="side-name">Run #{run.id}</span>
        {tokens !== null && <span>{tokens.toLocaleString()} tokens</span>}
        {gap !== null && <span>+{formatDuration(gap)}</span>}
      </p>
      <TranscriptItem item={turn.item} humanNames={NO_HUMANS} onFork={null} />
    </div>
  );
}

function Divergence({ rows, firstDivergence, runs }) {
  if (firstDivergence < 0) {
    return (
      <p className="notice notice-ok" data-testid="divergence-summary">
        The two runs are the same, turn for turn ({rows.length} turns).
      </p>
    );
  }
  const row = rows[firstDivergence];
  return (
    <p className="notice notice-info" data-testid="divergence-summary">
      The runs agree for {firstDivergence} turn{firstDivergence === 1 ? "" : "s"}, then part ways
      at turn {firstDivergence + 1}: {row.difference}.{" "}
      <a href="#first-divergence">Go to turn {firstDivergence + 1}</a>
      <span className="visually-hidden">
        {" "}
        (runs #{runs[0].id} and #{runs[1].id})
      </span>
    </p>
  );
}

/** Two runs side by side, their turns aligned, the first divergence marked. */
export function Compare({ runs }) {
  const [turns, setTurns] = useState([null, null]);
  const [error, setError] = useState("");

  useEffect(() => {
    Promise.all(runs.map((run) => loadRun(run.events_url))).then(setTurns, (problem) =>
      setError(problem.message),
    );
  }, [runs]);

  const isLoaded = turns[0] !== null && turns[1] !== null;
  const names = runs.map((run) => `run #${run.id}`);
  const aligned = isLoaded ? alignTurns(turns[0], turns[1], names) : null;
  return (
    <>
      <div className="compare-grid">
        <RunSummary run={runs[0]} turns={turns[0]} side="a" />
        <RunSummary run={runs[1]} turns={turns[1]} side="b" />
      </div>
      {error && (
        <p className="notice notice-error" role="alert">
          Could not load the transcripts: {error} Reload the page to try again.
        </p>
      )}
      {!isLoaded && !error && (
        <p className="muted" aria-busy="true">
          Loading the transcripts…
        </p>
      )}
      {aligned && (
        <>
          <Divergence rows={aligned.rows} firstDivergence={aligned.firstDivergence} runs={runs} />
          {aligned.rows.length === 0 ? (
            <p className="empty">Neither run has any turns yet.</p>
          ) : (
            <ol className="aligned-turns" aria-label="Turns side by side">
              {aligned.rows.map((row) => {
                const isFirst = row.index === aligned.firstDivergence;
                const state = row.difference ? "differs" : "same";
                return (
                  <li
                    key={row.index}
                    id={isFirst ? "first-divergence" : undefined}
                    className={`turn-row ${state}${isFirst ? " first-divergence" : ""}`}
                    data-testid="turn-row"
                    data-state={state}
                  >
                    <p className="turn-label">
                      <strong>Turn {row.index + 1}</strong>
                      {isFirst ? (
                        <span className="badge badge-divergence">First divergence</span>
                      ) : row.difference ? (
                        <span className="tag">differs</span>
                      ) : (
                        <span className="tag">same</span>
                      )}
                      {row.difference && <span className="small muted">{row.difference}</span>}
                    </p>
                    <div className="turn-pair">
                      <TurnCell
                        turn={row.left}
                        run={runs[0]}
                        index={row.index}
                        previousAt={row.index ? turns[0][row.index - 1]?.item.at : runs[0].started_at}
                      />
                      <TurnCell
                        turn={row.right}
                        run={runs[1]}
                        index={row.index}
                        previousAt={row.index ? turns[1][row.index - 1]?.item.at : runs[1].started_at}
                      />
                    </div>
                  </li>
                );
              })}
            </ol>
          )}
        </>
      )}
    </>
  );
}
