import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { StatusBadge } from "../run/items.jsx";

const PAGE_SIZE = 50;

function filtersOf(form) {
  const data = new FormData(form);
  const filters = {};
  for (const name of ["team", "status", "q"]) {
    const value = String(data.get(name) || "").trim();
    if (value) filters[name] = value;
  }
  return filters;
}

function formatDate(value) {
  if (!value) return "—";
  return new Date(value).toLocaleString();
}

function formatCost(value) {
  return value ? `$${value.toFixed(value < 0.01 ? 4 : 2)}` : "—";
}

/**
 * The run list: reads the filter form (team, status, text), keeps the query string in step
 * so the page can be bookmarked, and pages through GET /api/runs.
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
      const filters = filtersOf(form);
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
      timer = window.setTimeout(refresh, event.target.type === "search" ? 300 : 0);
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
    setPicked((current) =>
      current.includes(id) ? current.filter((item) => item !== id) : [...current, id].slice(-2),
    );
  const compareHref =
    picked.length === 2 ? `${compareUrl}?a=${picked[0]}&b=${picked[1]}` : undefined;
  return (
    <>
      <p className="compare-bar">
        <a
          className={`button small${picked.length === 2 ? " primary" : ""}`}
          href={compareHref}
          aria-disabled={picked.length !== 2}
        >
          Compare selected runs
        </a>
        <span className="small muted">
          {picked.length === 2 ? "" : "Tick two runs to compare them side by side."}
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
