import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { StatusBadge } from "../run/items.jsx";

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

function formatDate(value) {
  if (!value) return "—";
  return new Date(value).toLocaleString();
}

function formatCost(value) {
  return value ? `$${value.toFixed(value < 0.01 ? 4 : 2)}` : "—";
}

/**
 * The run list: reads the filter form (team, status, verdict, dates, text), keeps the
 * query string in step so the page can be bookmarked, and pages through GET /api/runs.
 */
export function RunHistory({ form, teams, runsUrl, runPageBase, compareUrl }) {
  const [runs, setRuns] = useState(null);
  const [picked, setPicked] = useState([]);
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
        Could not load the runs: {error}
      </p>
    );
  }
  if (runs === null) return <p className="muted">Loading runs…</p>;
  if (!runs.length) {
    return <p className="empty">No runs match. Open a team and press Run to start one.</p>;
  }
  const togglePick = (id) =>
    setPicked((current) => {
      if (current.includes(id)) return current.filter((item) => item !== id);
      return current.length < MAX_PICKED ? [...current, id] : current;
    });
  const isFull = picked.length === MAX_PICKED;
  const compareHref = isFull ? `${compareUrl}?a=${picked[0]}&b=${picked[1]}` : undefined;
  return (
    <>
      <p className="compare-bar">
        <a
          className={`button small${isFull ? " primary" : ""}`}
          href={compareHref}
          aria-disabled={!isFull}
        >
          Compare selected runs
        </a>
        <span className="small muted" aria-live="polite">
          {isFull
            ? "Two runs picked: untick one to pick another."
            : "Tick two runs to compare them side by side."}
        </span>
      </p>
      <table className="list" aria-label="Runs" aria-busy={isLoading}>
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
              <td>
                <input
                  type="checkbox"
                  aria-label={`Compare run ${run.id}`}
                  checked={picked.includes(run.id)}
                  disabled={isFull && !picked.includes(run.id)}
                  onChange={() => togglePick(run.id)}
                />
              </td>
              <td>
                <a href={`${runPageBase}${run.id}/`}>#{run.id}</a>
                {run.parent && <div className="small muted">fork of #{run.parent}</div>}
              </td>
              <td>
                {teamNames.get(run.team) || `team ${run.team}`}
                <div className="small muted">v{run.version_number}</div>
              </td>
              <td>
                <div className="task-cell">{run.task}</div>
                {run.snippet && (
                  <div className="small">
                    <Snippet html={run.snippet} />
                  </div>
                )}
              </td>
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td className="small">
                {formatDate(run.created_at)}
                {run.started_by && <div className="muted">by {run.started_by}</div>}
              </td>
              <td className="number">{run.total_tokens.toLocaleString()}</td>
              <td className="number">{formatCost(run.cost_usd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {hasMore && (
        <p>
          <button type="button" onClick={() => load(runs.length)} disabled={isLoading}>
            Load more
          </button>
        </p>
      )}
    </>
  );
}
