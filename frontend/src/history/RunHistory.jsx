import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { formatDate } from "../dates.js";
import { formatCost, StatusBadge } from "../run/items.jsx";

const PAGE_SIZE = 50;

const FILTER_NAMES = ["team", "status", "verdict", "created_after", "created_before", "q"];
const MAX_PICKED = 2;

/** The form's filters as the page's own query string keeps them (dates as YYYY-MM-DD). */
function filtersOf(form) {
  const data = new FormData(form);
  const filters = {};
  for (const name of FILTER_NAMES) {
    const value = String(data.get(name) || "").trim();
    if (value) filters[name] = value;
  }
  return filters;
}

/** Local midnight of a YYYY-MM-DD day, `extraDays` later, as an ISO instant. */
function dayStart(day, extraDays = 0) {
  const [year, month, date] = day.split("-").map(Number);
  const start = new Date(year, month - 1, date + extraDays);
  return Number.isNaN(start.getTime()) ? null : start.toISOString();
}

/**
 * The page's filters as GET /api/runs reads them: "unreviewed" becomes reviewed=false and
 * the date range covers whole local days, the "to" day included.
 */
function apiFilters(filters) {
  const query = { ...filters };
  if (query.verdict === "unreviewed") {
    delete query.verdict;
    query.reviewed = "false";
  }
  if (query.created_after) {
    const after = dayStart(query.created_after);
    if (after) query.created_after = after;
    else delete query.created_after;
  }
  if (query.created_before) {
    const before = dayStart(query.created_before, 1);
    if (before) query.created_before = before;
    else delete query.created_before;
  }
  return query;
}

/**
 * A search snippet as React elements. The API sends it HTML-escaped with <mark> around
 * the matches; the text between the tags is unescaped and rendered as plain text.
 */
export function Snippet({ html }) {
  const parts = html.split(/<mark>|<\/mark>/);
  return (
    <span className="snippet" data-testid="run-snippet">
      {parts.map((part, index) => {
        const text = unescapeHtml(part);
        return index % 2 ? <mark key={index}>{text}</mark> : text;
      })}
    </span>
  );
}

const ENTITIES = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&#x27;": "'",
  "&#39;": "'",
};

function unescapeHtml(text) {
  return text.replace(/&(?:amp|lt|gt|quot|#x27|#39);/g, (entity) => ENTITIES[entity]);
}

/**
 * The run list: reads the filter form (team, status, verdict, dates, text), keeps the
 * query string in step so the page can be bookmarked, and pages through GET /api/runs.
 */
export function RunHistory({ form, teams, runsUrl, runPageBase, compareUrl }) {
  const [runs, setRuns] = useState(null);
  const [picked, setPicked] = useState([]);
  const [refusal, setRefusal] = useState(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState("");
  const [isLoading, setLoading] = useState(false);
  const request = useRef(null);
  const teamNames = new Map(teams.map((team) => [team.pk, team.name]));

  const load = useCallback(
    async (offset) => {
      if (request.current) request.current.abort();
      const controller = new AbortController();
      request.current = controller;
      const filters = apiFilters(filtersOf(form));
      const query = new URLSearchParams({ ...filters, limit: PAGE_SIZE, offset });
      setLoading(true);
      try {
        const page = await requestJson(`${runsUrl}?${query}`, { signal: controller.signal });
        setRuns((previous) => (offset && previous ? [...previous, ...page] : page));
        setHasMore(page.length === PAGE_SIZE);
        setError("");
      } catch (problem) {
        if (problem.name !== "AbortError") setError(problem.message);
      } finally {
        if (request.current === controller) setLoading(false);
      }
    },
    [form, runsUrl],
  );

  useEffect(() => {
    let timer = null;
    const refresh = () => {
      const query = new URLSearchParams(filtersOf(form)).toString();
      window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
      load(0);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      refresh();
    };
    const onInput = (event) => {
      window.clearTimeout(timer);
      const typing = event.type === "input" && event.target.type === "search";
      timer = window.setTimeout(refresh, typing ? 300 : 0);
    };
    form.addEventListener("submit", onSubmit);
    form.addEventListener("change", onInput);
    form.addEventListener("input", onInput);
    load(0);
    return () => {
      window.clearTimeout(timer);
      form.removeEventListener("submit", onSubmit);
      form.removeEventListener("change", onInput);
      form.removeEventListener("input", onInput);
    };
  }, [form, load]);

  if (error) {
    return (
      <p className="notice notice-error" role="alert">
        Could not load the runs: {error} Check your filters, or reload the page to try again.
      </p>
    );
  }
  if (runs === null) return <p className="muted">Loading runs…</p>;
  const pickedIds = picked.map((run) => run.id);
  const togglePick = (run) => {
    setRefusal(null);
    if (pickedIds.includes(run.id)) {
      setPicked(picked.filter((item) => item.id !== run.id));
    } else if (picked.length < MAX_PICKED) {
      setPicked([...picked, run]);
    } else {
      setRefusal(run);
    }
  };
  const replacePick = (old) => {
    setPicked(picked.map((item) => (item.id === old.id ? refusal : item)));
    setRefusal(null);
  };
  const isFull = picked.length === MAX_PICKED;
  const compareHref = isFull ? `${compareUrl}?a=${pickedIds[0]}&b=${pickedIds[1]}` : undefined;
  return (
    <>
      <section className="compare-bar" aria-label="Comparison picks">
        <a
          className={`button small${isFull ? " primary" : ""}`}
          href={compareHref}
          role="link"
          aria-disabled={!isFull}
        >
          Compare selected runs
        </a>
        <ul className="picked" aria-label="Picked runs">
          {picked.map((run) => (
            <li key={run.id} className="chip">
              #{run.id} · {teamNames.get(run.team) || `team ${run.team}`}
              <button
                type="button"
                className="chip-remove"
                aria-label={`Unpick run ${run.id}`}
                onClick={() => togglePick(run)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <span className="small muted" aria-live="polite">
          {isFull
            ? "Two runs picked: press Compare, or unpick one to pick another."
            : picked.length
              ? "Tick one more run to compare."
              : "Tick two runs to compare them side by side."}
        </span>
      </section>
      <div aria-live="assertive">
        {refusal && (
          <div className="notice notice-info compare-refusal" role="alert">
            <p>
              Only two runs can be compared at a time, and #{pickedIds[0]} and #{pickedIds[1]} are
              picked. Run #{refusal.id} was not added.
            </p>
            <div className="row-buttons">
              {picked.map((run) => (
                <button key={run.id} type="button" className="small" onClick={() => replacePick(run)}>
                  Replace #{run.id} with #{refusal.id}
                </button>
              ))}
              <button type="button" className="small" onClick={() => setRefusal(null)}>
                Keep #{pickedIds[0]} and #{pickedIds[1]}
              </button>
            </div>
          </div>
        )}
      </div>
      {!runs.length ? (
        <p className="empty">
          No runs match. Clear a filter or widen the dates, or open a team and press Run to
          start one.
        </p>
      ) : (
        <table className="list stack run-table" aria-label="Runs" aria-busy={isLoading}>
          <thead>
            <tr>
              <th scope="col">
                <span className="visually-hidden">Compare</span>
              </th>
              <th scope="col">Run</th>
              <th scope="col">Team</th>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col" className="number">Tokens</th>
              <th scope="col" className="number">Cost</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <tr key={run.id} data-testid="run-row">
                <td className="pick-cell">
                  <input
                    type="checkbox"
                    aria-label={`Compare run ${run.id}`}
                    checked={pickedIds.includes(run.id)}
                    onChange={() => togglePick(run)}
                  />
                </td>
                <td data-label="Run">
                  <a href={`${runPageBase}${run.id}/`}>#{run.id}</a>
                  {run.parent && <div className="small muted">fork of #{run.parent}</div>}
                </td>
                <td data-label="Team">
                  {teamNames.get(run.team) || `team ${run.team}`}
                  <div className="small muted">v{run.version_number}</div>
                </td>
                <td data-label="Task">
                  <div className="task-cell">{run.task}</div>
                  {run.snippet && (
                    <div className="small">
                      <Snippet html={run.snippet} />
                    </div>
                  )}
                </td>
                <td data-label="Status">
                  <StatusBadge status={run.status} />
                </td>
                <td data-label="Started" className="small">
                  {formatDate(run.created_at)}
                  {run.started_by && <div className="muted">by {run.started_by}</div>}
                </td>
                <td data-label="Tokens" className="number">
                  {run.total_tokens.toLocaleString()}
                </td>
                <td data-label="Cost" className="number">
                  {formatCost(run.cost_usd)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasMore && (
        <p>
          <button type="button" onClick={() => load(runs.length)} disabled={isLoading}>
            {isLoading ? "Loading…" : "Load more"}
          </button>
        </p>
      )}
    </>
  );
}
