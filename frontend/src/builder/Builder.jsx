import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, requestJson } from "../api.js";
import { Canvas } from "./Canvas.jsx";
import {
  agentPayload,
  draftFromJson,
  draftFromServer,
  draftToJson,
  newAgent,
  removeAgent,
  renameAgent,
  seatOfPath,
  teamPayload,
} from "./draft.js";
import { Inspector } from "./Inspector.jsx";
import { TeamSettings } from "./TeamSettings.jsx";
import { Versions } from "./Versions.jsx";

const TABS = [
  ["agent", "Agent"],
  ["team", "Team"],
  ["json", "JSON"],
  ["versions", "Versions"],
  ["problems", "Problems"],
];

async function loadEverything(urls) {
  const team = await requestJson(urls.team);
  const [agents, models, tools, teams] = await Promise.all([
    Promise.all(team.participants.map((id) => requestJson(`${urls.agents}/${id}`))),
    requestJson(urls.models),
    requestJson(urls.tools),
    requestJson(urls.teams),
  ]);
  return { team, agents, models, tools, teams };
}

function Problems({ result, onPick }) {
  if (!result) {
    return <p className="muted">Validate to check the saved team for problems.</p>;
  }
  if (result.isValid) {
    return (
      <p className="notice notice-ok" role="status">
        No problems: the team can run.
      </p>
    );
  }
  return (
    <>
      <p className="notice notice-error" role="status">
        {result.problems.length} problem{result.problems.length === 1 ? "" : "s"} found.
      </p>
      <ul className="problems" aria-label="Problems">
        {result.problems.map((problem, index) => (
          <li key={index}>
            {seatOfPath(problem.path) >= 0 ? (
              <button type="button" className="button-link" onClick={() => onPick(problem.path)}>
                <code>{problem.path}</code>
              </button>
            ) : (
              <code>{problem.path || "team"}</code>
            )}
            : {problem.message}
          </li>
        ))}
      </ul>
    </>
  );
}

function JsonTab({ draft, isReadOnly, onApply }) {
  const [text, setText] = useState(() => JSON.stringify(draftToJson(draft), null, 2));
  const [error, setError] = useState("");
  const [isEditing, setEditing] = useState(false);
  useEffect(() => {
    if (!isEditing) setText(JSON.stringify(draftToJson(draft), null, 2));
  }, [draft, isEditing]);
  const apply = () => {
    try {
      onApply(draftFromJson(text, draft));
      setError("");
      setEditing(false);
    } catch (problem) {
      setError(problem.message);
    }
  };
  return (
    <div>
      <div className="field">
        <label htmlFor="team-json">Team and agents as JSON</label>
        <textarea
          id="team-json"
          className="code"
          spellCheck={false}
          value={text}
          readOnly={isReadOnly}
          onChange={(event) => {
            setEditing(true);
            setText(event.target.value);
          }}
        />
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {!isReadOnly && (
        <div className="field-row">
          <button type="button" onClick={apply} disabled={!isEditing}>
            Apply JSON
          </button>
          <button
            type="button"
            onClick={() => {
              setEditing(false);
              setError("");
            }}
            disabled={!isEditing}
          >
            Discard edits
          </button>
        </div>
      )}
    </div>
  );
}

function RunDialog({ dialogRef, onStart }) {
  const [task, setTask] = useState("");
  const [budgetTokens, setBudgetTokens] = useState("");
  const [budgetUsd, setBudgetUsd] = useState("");
  const [error, setError] = useState("");
  const [isStarting, setStarting] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setStarting(true);
    setError("");
    try {
      const budget = {
        tokens: budgetTokens ? Number(budgetTokens) : null,
        usd: budgetUsd ? Number(budgetUsd) : null,
      };
      await onStart(task.trim(), budget.tokens || budget.usd ? budget : null);
    } catch (problem) {
      setError(problem.message);
      setStarting(false);
    }
  };
  return (
    <dialog ref={dialogRef} aria-labelledby="run-dialog-title">
      <form onSubmit={submit}>
        <h2 id="run-dialog-title">Run this team</h2>
        <div className="field">
          <label htmlFor="run-task">Task</label>
          <textarea
            id="run-task"
            rows={4}
            value={task}
            required
            placeholder="What should the team do?"
            onChange={(event) => setTask(event.target.value)}
          />
        </div>
        <fieldset>
          <legend>Budget (optional)</legend>
          <div className="field-row">
            <div className="field">
              <label htmlFor="run-budget-tokens">Max tokens</label>
              <input
                id="run-budget-tokens"
                type="number"
                min={1}
                value={budgetTokens}
                onChange={(event) => setBudgetTokens(event.target.value)}
              />
            </div>
            <div className="field">
              <label htmlFor="run-budget-usd">Max cost (USD)</label>
              <input
                id="run-budget-usd"
                type="number"
                min={0}
                step="any"
                value={budgetUsd}
                onChange={(event) => setBudgetUsd(event.target.value)}
              />
            </div>
          </div>
          <p className="hint small muted">
            The run stops before a model call that would go past either limit.
          </p>
        </fieldset>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialogRef.current.close()}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={isStarting || !task.trim()}>
            {isStarting ? "Starting…" : "Start run"}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** The team builder: canvas, inspector, settings, JSON, validation, save and run. */
export function Builder({ urls }) {
  const [loaded, setLoaded] = useState(null);
  const [draft, setDraft] = useState(null);
  const [selected, setSelected] = useState(null);
  const [tab, setTab] = useState("agent");
  const [isDirty, setDirty] = useState(false);
  const [isBusy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const [validation, setValidation] = useState(null);
  const runDialog = useRef(null);

  const reload = useCallback(async () => {
    const data = await loadEverything(urls);
    setLoaded(data);
    const next = draftFromServer(data.team, data.agents);
    setDraft(next);
    setSelected((current) =>
      next.agents.some((agent) => agent.key === current) ? current : next.agents[0]?.key,
    );
    setDirty(false);
    return data;
  }, [urls]);

  useEffect(() => {
    reload().catch((error) => setNotice({ kind: "error", text: error.message }));
  }, [reload]);

  useEffect(() => {
    const warn = (event) => {
      if (!isDirty) return;
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [isDirty]);

  if (!draft) {
    return (
      <div className="page">
        {notice ? (
          <p className="notice notice-error" role="alert">
            Could not load the team: {notice.text}
          </p>
        ) : (
          <p className="muted">Loading the team…</p>
        )}
      </div>
    );
  }

  const { team: serverTeam, models, tools, teams } = loaded;
  const isReadOnly = serverTeam.role !== "owner" && serverTeam.role !== "editor";
  const seat = draft.agents.findIndex((agent) => agent.key === selected);
  const agent = seat >= 0 ? draft.agents[seat] : null;
  const names = draft.agents.map((item) => item.name);

  const update = (next) => {
    setDraft(next);
    setDirty(true);
    setNotice(null);
  };
  const updateTeam = (patch) => update({ ...draft, team: { ...draft.team, ...patch } });
  const updateAgent = (patch) => {
    let next = draft;
    if (patch.name !== undefined && patch.name !== agent.name) {
      next = renameAgent(next, agent.name, patch.name);
    }
    next = {
      ...next,
      agents: next.agents.map((item) =>
        item.key === selected ? { ...item, ...patch, isDirty: true } : item,
      ),
    };
    update(next);
  };
  const moveAgent = (offset) => {
    const agents = draft.agents.slice();
    const [moved] = agents.splice(seat, 1);
    agents.splice(seat + offset, 0, moved);
    update({ ...draft, agents });
  };
  const addAgent = () => {
    const created = newAgent(draft.agents, models);
    update({ ...draft, agents: [...draft.agents, created] });
    setSelected(created.key);
    setTab("agent");
  };
  const moveNode = (key, position) => {
    const moved = draft.agents.find((item) => item.key === key);
    if (!moved || isReadOnly) return;
    update({
      ...draft,
      team: { ...draft.team, positions: { ...draft.team.positions, [moved.name]: position } },
    });
  };
  const connect = ({ source, target }) => {
    if (isReadOnly || source === target) return;
    const from = draft.agents.find((item) => item.key === source);
    const to = draft.agents.find((item) => item.key === target);
    if (!from || !to) return;
    if (draft.team.kind === "graph") {
      const exists = draft.team.graph_edges.some(
        (edge) => edge.source === from.name && edge.target === to.name,
      );
      if (!exists) {
        updateTeam({
          graph_edges: [
            ...draft.team.graph_edges,
            { source: from.name, target: to.name, condition: null },
          ],
        });
      }
    } else if (draft.team.kind === "swarm" && !from.handoffs.includes(to.name)) {
      update({
        ...draft,
        agents: draft.agents.map((item) =>
          item.key === from.key
            ? { ...item, handoffs: [...item.handoffs, to.name], isDirty: true }
            : item,
        ),
      });
    }
  };
  const deleteEdge = (data) => {
    if (isReadOnly) return;
    if (data.index !== undefined) {
      updateTeam({ graph_edges: draft.team.graph_edges.filter((_, i) => i !== data.index) });
    } else if (data.pairs) {
      const dropped = (key, name) =>
        data.pairs.some((pair) => pair.from === key && pair.target === name);
      update({
        ...draft,
        agents: draft.agents.map((item) => {
          const handoffs = item.handoffs.filter((name) => !dropped(item.key, name));
          return handoffs.length === item.handoffs.length
            ? item
            : { ...item, handoffs, isDirty: true };
        }),
      });
    }
  };

  const save = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const ids = [];
      for (const [index, item] of draft.agents.entries()) {
        try {
          if (!item.id) {
            const created = await requestJson(urls.agents, {
              method: "POST",
              body: agentPayload(item),
            });
            ids.push(created.id);
          } else {
            if (item.isDirty) {
              await requestJson(`${urls.agents}/${item.id}`, {
                method: "PUT",
                body: agentPayload(item),
              });
            }
            ids.push(item.id);
          }
        } catch (error) {
          const where = error.problems?.length
            ? error.problems.map((p) => `${p.path}: ${p.message}`).join("; ")
            : error.message;
          throw new Error(`Agent "${item.name}" (participants[${index}]): ${where}`);
        }
      }
      await requestJson(urls.team, { method: "PUT", body: teamPayload(draft, ids) });
      const data = await reload();
      setNotice({ kind: "ok", text: `Saved as version ${data.team.version}.` });
      return true;
    } catch (error) {
      const detail =
        error instanceof ApiError && error.problems.length
          ? `${error.message} ${error.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`
          : error.message;
      setNotice({ kind: "error", text: detail });
      return false;
    } finally {
      setBusy(false);
    }
  };

  const validate = async () => {
    if (isDirty && !isReadOnly && !(await save())) return;
    setBusy(true);
    try {
      const result = await requestJson(urls.validate, { method: "POST" });
      setValidation({ isValid: result.is_valid, problems: result.problems });
      setTab("problems");
    } catch (error) {
      setNotice({ kind: "error", text: error.message });
    } finally {
      setBusy(false);
    }
  };

  const duplicate = async () => {
    setBusy(true);
    try {
      const copy = await requestJson(urls.duplicate, { method: "POST" });
      window.location.assign(`${urls.builderBase}${copy.id}/`);
    } catch (error) {
      setNotice({ kind: "error", text: error.message });
      setBusy(false);
    }
  };

  const deleteTeam = async () => {
    const question = `Delete "${serverTeam.name}" and all its runs? This cannot be undone.`;
    if (!window.confirm(question)) return;
    try {
      await requestJson(urls.team, { method: "DELETE" });
      window.location.assign(urls.teamList);
    } catch (error) {
      setNotice({ kind: "error", text: error.message });
    }
  };

  const openRun = async () => {
    if (isDirty && !isReadOnly && !(await save())) return;
    runDialog.current.showModal();
  };

  const startRun = async (task, budget) => {
    const body = { team: serverTeam.id, task };
    if (budget) body.budget = budget;
    const run = await requestJson(urls.runs, { method: "POST", body });
    window.location.assign(`${urls.runPageBase}${run.id}/`);
  };

  const selectFromCanvas = (key) => {
    setSelected(key);
    setTab("agent");
  };

  const pickProblem = (path) => {
    const index = seatOfPath(path);
    if (index >= 0 && draft.agents[index]) {
      setSelected(draft.agents[index].key);
      setTab("agent");
    }
  };

  let saveState = "All changes saved";
  if (isReadOnly) saveState = "Read only";
  else if (isDirty) saveState = "Unsaved changes";

  return (
    <div className="builder">
      <div className="toolbar" role="toolbar" aria-label="Team actions">
        <h1>{draft.team.name || "Untitled team"}</h1>
        <span className="tag">{serverTeam.kind.replace("_", " ")}</span>
        {serverTeam.version && <span className="tag">v{serverTeam.version}</span>}
        {serverTeam.is_gallery && <span className="tag">gallery</span>}
        <span className="save-state" role="status" data-testid="save-state">
          {saveState}
        </span>
        <span className="spacer" />
        {!isReadOnly && (
          <button type="button" onClick={addAgent} disabled={isBusy}>
            + Add agent
          </button>
        )}
        <button type="button" onClick={validate} disabled={isBusy}>
          Validate
        </button>
        {isReadOnly ? (
          <button type="button" onClick={duplicate} disabled={isBusy}>
            Make an editable copy
          </button>
        ) : (
          <button type="button" onClick={save} disabled={isBusy || !isDirty}>
            Save
          </button>
        )}
        <a className="button" href={urls.exportRoundtable} download>
          Export
        </a>
        <a className="button" href={urls.exportAutogen} download>
          Export for AutoGen
        </a>
        {serverTeam.role === "owner" && (
          <button type="button" className="danger" onClick={deleteTeam} disabled={isBusy}>
            Delete
          </button>
        )}
        <button type="button" className="primary" onClick={openRun} disabled={isBusy}>
          Run…
        </button>
      </div>
      {notice && (
        <p
          className={`notice notice-${notice.kind === "ok" ? "ok" : "error"}`}
          role={notice.kind === "ok" ? "status" : "alert"}
        >
          {notice.text}
        </p>
      )}
      <div className="builder-body">
        <Canvas
          draft={draft}
          models={models}
          selected={selected}
          onSelect={selectFromCanvas}
          onMove={moveNode}
          onConnect={connect}
          onDeleteEdge={deleteEdge}
        />
        <aside className="side-panel" aria-label="Inspector">
          <div className="tabs" role="tablist">
            {TABS.map(([id, label]) => (
              <button
                key={id}
                type="button"
                role="tab"
                id={`tab-${id}`}
                aria-selected={tab === id}
                aria-controls={`panel-${id}`}
                onClick={() => setTab(id)}
              >
                {label}
                {id === "problems" && validation && !validation.isValid
                  ? ` (${validation.problems.length})`
                  : ""}
              </button>
            ))}
          </div>
          <div className="tab-panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            {tab === "agent" && draft.agents.length > 0 && (
              <nav className="seat-list" aria-label="Agents in seat order">
                {draft.agents.map((item) => (
                  <button
                    key={item.key}
                    type="button"
                    className="small"
                    aria-pressed={item.key === selected}
                    onClick={() => setSelected(item.key)}
                  >
                    {item.name}
                  </button>
                ))}
              </nav>
            )}
            {tab === "agent" && (
              <Inspector
                agent={agent}
                seat={seat}
                seatCount={draft.agents.length}
                teamKind={draft.team.kind}
                otherNames={names.filter((name) => !agent || name !== agent.name)}
                models={models}
                tools={tools}
                teams={teams.filter((item) => item.id !== serverTeam.id)}
                isReadOnly={isReadOnly}
                onChange={updateAgent}
                onMove={moveAgent}
                onRemove={() => {
                  update(removeAgent(draft, selected));
                  setSelected(null);
                }}
              />
            )}
            {tab === "team" && (
              <TeamSettings
                team={draft.team}
                names={names}
                models={models}
                isReadOnly={isReadOnly}
                onChange={updateTeam}
              />
            )}
            {tab === "json" && (
              <JsonTab draft={draft} isReadOnly={isReadOnly} onApply={update} />
            )}
            {tab === "versions" && (
              <Versions
                url={`${urls.team}/versions`}
                currentVersion={serverTeam.version}
                canRestore={!isReadOnly}
                isDirty={isDirty}
                onRestored={async () => {
                  const data = await reload();
                  setNotice({ kind: "ok", text: `Restored as version ${data.team.version}.` });
                }}
              />
            )}
            {tab === "problems" && <Problems result={validation} onPick={pickProblem} />}
          </div>
        </aside>
      </div>
      <RunDialog dialogRef={runDialog} onStart={startRun} />
    </div>
  );
}
