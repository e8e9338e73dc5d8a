import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { Canvas } from "./Canvas.jsx";
import { Inspector } from "./Inspector.jsx";
import { JsonTab } from "./JsonTab.jsx";
import { ConflictNotice, DraftOffer, ProblemsPanel } from "./Notices.jsx";
import { RunDialog } from "./RunDialog.jsx";
import {
  changeKind,
  freshName,
  graphEdges,
  isObject,
  modelSpecOf,
  moveItem,
  moveSeat,
  newParticipant,
  participantName,
  participantOfPath,
  pathPrefixes,
  positionOf,
  removeParticipant,
  renameParticipant,
  replaceParticipant,
  withGraphEdges,
  withPosition,
} from "./spec.js";
import { TeamSettings } from "./TeamSettings.jsx";
import { newKey, useTeamSpec } from "./useTeamSpec.js";
import { Versions } from "./Versions.jsx";

const TABS = [
  ["agent", "Agent"],
  ["team", "Team"],
  ["json", "JSON"],
  ["versions", "Versions"],
];

/** Problems as the builder keeps them: each knows the canvas node of its participant. */
function problemsOf(message, list, keys) {
  return {
    message,
    items: list.map((item) => {
      const index = participantOfPath(item.path);
      return { ...item, key: index >= 0 ? (keys[index] ?? null) : null };
    }),
  };
}

/** Focuses the input of a spec path, or of its nearest parent that has one. */
function focusPath(path) {
  const inputs = [...document.querySelectorAll("[data-path]")];
  for (const prefix of pathPrefixes(path)) {
    const input = inputs.find((element) => element.getAttribute("data-path") === prefix);
    if (input) {
      input.focus();
      input.scrollIntoView({ block: "center" });
      return true;
    }
  }
  return false;
}

function saveStateText(editor) {
  if (editor.isReadOnly) return "Read only";
  if (editor.isSaving || editor.draftState === "pending" || editor.draftState === "saving") {
    return "Saving…";
  }
  if (!editor.isDirty) return "All changes saved";
  if (editor.draftState === "failed") return `Draft not saved: ${editor.draftError}`;
  return "Draft saved";
}

/** The team builder: canvas, inspector, settings, JSON, versions, validation, save and run. */
export function Builder({ urls }) {
  const editor = useTeamSpec(urls);
  const { team, catalog, spec, keys, isReadOnly, change } = editor;
  const [loadError, setLoadError] = useState("");
  const [choices, setChoices] = useState({ models: [], teams: [] });
  const [selected, setSelected] = useState(null);
  const [tab, setTab] = useState("agent");
  const [notice, setNotice] = useState(null);
  const [problems, setProblems] = useState(null);
  const [conflict, setConflict] = useState("");
  const [isBusy, setBusy] = useState(false);
  const [focusRequest, setFocusRequest] = useState(null);
  // The name the rest of the spec uses for a participant whose name is mid-edit (by key).
  const referenceNames = useRef(new Map());
  const runDialog = useRef(null);

  useEffect(() => {
    editor
      .load()
      .then((answer) => {
        if (!answer.is_gallery && (answer.role === "owner" || answer.role === "editor")) {
          // What the inspector's lists offer besides the catalog: your models and teams.
          Promise.all([requestJson(urls.models), requestJson(urls.teams)]).then(
            ([models, teams]) => setChoices({ models, teams }),
            (error) =>
              setNotice({ kind: "error", text: `Could not list models: ${error.message}` }),
          );
        }
      })
      .catch((error) => setLoadError(error.message));
  }, []); // once per page

  // Select the first agent once there is one and nothing (still existing) is selected.
  useEffect(() => {
    if (keys && !keys.includes(selected)) setSelected(keys[0] ?? null);
  }, [keys, selected]);

  useEffect(() => {
    if (focusRequest) focusPath(focusRequest.path);
  }, [focusRequest]);

  const problemCounts = useMemo(() => {
    const counts = new Map();
    for (const item of problems?.items || []) {
      if (item.key) counts.set(item.key, (counts.get(item.key) || 0) + 1);
    }
    return counts;
  }, [problems]);

  const onMove = useCallback(
    (key, position) =>
      change((doc) => {
        const index = doc.keys.indexOf(key);
        if (index < 0) return doc;
        const name = participantName(doc.spec.participants[index]);
        const current = positionOf(doc.spec, name);
        const x = Math.round(position.x);
        const y = Math.round(position.y);
        if (current && current.x === x && current.y === y) return doc;
        return { ...doc, spec: withPosition(doc.spec, name, position) };
      }),
    [change],
  );

  if (!spec || !catalog) {
    return (
      <div className="page">
        {loadError ? (
          <p className="notice notice-error" role="alert">
            Could not load the team: {loadError}
          </p>
        ) : (
          <p className="muted">Loading the team…</p>
        )}
      </div>
    );
  }

  const index = keys.indexOf(selected);
  const participant = index >= 0 ? spec.participants[index] : null;
  const names = spec.participants.map(participantName);
  const setSpec = (next) => change((doc) => ({ ...doc, spec: next }));

  const pick = (item) => {
    let path = item.path || "";
    if (item.key) {
      const seat = keys.indexOf(item.key);
      if (seat < 0) return;
      setSelected(item.key);
      setTab("agent");
      path = path.replace(/^participants\[\d+\]/, `participants[${seat}]`);
    } else {
      setTab("team");
    }
    setFocusRequest({ path });
  };

  const save = async () => {
    setNotice(null);
    setConflict("");
    const result = await editor.save();
    if (result.isSaved) {
      setProblems(null);
      setNotice({ kind: "ok", text: `Saved as version ${result.version}.` });
      return true;
    }
    const { error } = result;
    if (error.status === 422) {
      const found = problemsOf(error.message, error.problems, result.keys);
      setProblems(found);
      if (found.items.length) pick(found.items[0]);
    } else if (error.status === 409) {
      setConflict(error.message);
    } else {
      setNotice({ kind: "error", text: error.message });
    }
    return false;
  };

  const reloadLatest = async () => {
    setBusy(true);
    try {
      await editor.reload();
      setConflict("");
      setProblems(null);
      setNotice(null);
    } catch (error) {
      setNotice({ kind: "error", text: error.message });
    } finally {
      setBusy(false);
    }
  };

  const validate = async () => {
    if (editor.isDirty && !isReadOnly && !(await save())) return;
    setBusy(true);
    try {
      const result = await requestJson(urls.validate, { method: "POST" });
      setProblems(
        result.is_valid
          ? { isValid: true, items: [] }
          : problemsOf(
              `${result.problems.length} problem${result.problems.length === 1 ? "" : "s"} found.`,
              result.problems,
              keys,
            ),
      );
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
    const question = `Delete "${team.name}" and all its runs? This cannot be undone.`;
    if (!window.confirm(question)) return;
    try {
      await requestJson(urls.team, { method: "DELETE" });
      window.location.assign(urls.teamList);
    } catch (error) {
      setNotice({ kind: "error", text: error.message });
    }
  };

  const openRun = async () => {
    if (editor.isDirty && !isReadOnly && !(await save())) return;
    runDialog.current.showModal();
  };

  const startRun = async (task, budget) => {
    const body = { team: team.id, task };
    if (budget) body.budget = budget;
    const run = await requestJson(urls.runs, { method: "POST", body });
    window.location.assign(`${urls.runPageBase}${run.id}/`);
  };

  // --- Edits: each makes the next spec ---

  const addAgent = () => {
    const model = choices.models.length ? modelSpecOf(choices.models[0]) : null;
    const created = newParticipant(catalog, "assistant", freshName(spec), model);
    const key = newKey();
    change((doc) => ({
      spec: { ...doc.spec, participants: [...doc.spec.participants, created] },
      keys: [...doc.keys, key],
    }));
    setSelected(key);
    setTab("agent");
  };

  const rename = (name) =>
    change((doc) => {
      const key = doc.keys[index];
      const known = referenceNames.current.get(key);
      const reference = known ?? participantName(doc.spec.participants[index]);
      const result = renameParticipant(doc.spec, index, name, reference);
      if (result.referenceName === name) referenceNames.current.delete(key);
      else referenceNames.current.set(key, result.referenceName);
      return { ...doc, spec: result.spec };
    });

  const updateParticipant = (next) =>
    change((doc) => ({ ...doc, spec: replaceParticipant(doc.spec, index, next) }));

  const pickInnerTeam = async (teamId) => {
    if (teamId === null) {
      updateParticipant({ ...participant, team: null });
      return;
    }
    try {
      const inner = await requestJson(`${urls.teams}/${teamId}`);
      updateParticipant({ ...participant, team: inner.spec });
    } catch (error) {
      setNotice({ kind: "error", text: `Could not load that team: ${error.message}` });
    }
  };

  const removeSelected = () => {
    change((doc) => ({
      spec: removeParticipant(doc.spec, index),
      keys: doc.keys.filter((_, i) => i !== index),
    }));
    setSelected(null);
  };

  const connect = ({ source, target }) => {
    if (source === target) return;
    const from = keys.indexOf(source);
    const to = keys.indexOf(target);
    if (from < 0 || to < 0) return;
    const fromName = names[from];
    const toName = names[to];
    if (spec.kind === "graph") {
      const edges = graphEdges(spec);
      if (edges.some((edge) => edge.source === fromName && edge.target === toName)) return;
      const edge = { source: fromName, target: toName, condition: null };
      setSpec(withGraphEdges(spec, [...edges, edge]));
    } else if (spec.kind === "swarm") {
      const handoffs = Array.isArray(spec.participants[from].handoffs)
        ? spec.participants[from].handoffs
        : [];
      if (handoffs.includes(toName)) return;
      const next = { ...spec.participants[from], handoffs: [...handoffs, toName] };
      setSpec(replaceParticipant(spec, from, next));
    }
  };

  const deleteEdge = (data) => {
    if (data.index !== undefined) {
      setSpec(withGraphEdges(spec, graphEdges(spec).filter((_, i) => i !== data.index)));
    } else if (data.pairs) {
      const participants = spec.participants.map((item, seat) => {
        const dropped = data.pairs
          .filter((pair) => pair.from === keys[seat])
          .map((pair) => pair.target);
        if (!dropped.length || !Array.isArray(item.handoffs)) return item;
        return { ...item, handoffs: item.handoffs.filter((name) => !dropped.includes(name)) };
      });
      setSpec({ ...spec, participants });
    }
  };

  const applyJson = (data) => {
    change(() => {
      const participants = Array.isArray(data.participants)
        ? data.participants.filter(isObject)
        : [];
      const next = { ...data, participants, layout: isObject(data.layout) ? data.layout : {} };
      return { spec: next, keys: participants.map(() => newKey()) };
    });
  };

  const selectFromCanvas = (key) => {
    setSelected(key);
    setTab("agent");
  };

  const kindLabel = catalog.team_kinds.find((item) => item.value === spec.kind)?.label || spec.kind;

  return (
    <div className="builder">
      <div className="toolbar" role="toolbar" aria-label="Team actions">
        <h1>{spec.name || "Untitled team"}</h1>
        <span className="tag">{kindLabel}</span>
        {editor.version && (
          <span className="tag" data-testid="version">
            v{editor.version}
          </span>
        )}
        {team.is_gallery && <span className="tag">gallery</span>}
        <span className="save-state" role="status" data-testid="save-state">
          {saveStateText(editor)}
        </span>
        <span className="spacer" />
        {!isReadOnly && (
          <button type="button" onClick={addAgent} disabled={isBusy}>
            + Add agent
          </button>
        )}
        <button type="button" onClick={validate} disabled={isBusy || editor.isSaving}>
          Validate
        </button>
        {isReadOnly ? (
          <button type="button" className="primary" onClick={duplicate} disabled={isBusy}>
            Make an editable copy
          </button>
        ) : (
          <button
            type="button"
            onClick={save}
            disabled={isBusy || editor.isSaving || !editor.isDirty}
          >
            Save
          </button>
        )}
        <a className="button" href={urls.exportRoundtable} download>
          Export
        </a>
        <a className="button" href={urls.exportAutogen} download>
          Export for AutoGen
        </a>
        {team.role === "owner" && !team.is_gallery && (
          <button type="button" className="danger" onClick={deleteTeam} disabled={isBusy}>
            Delete
          </button>
        )}
        <button type="button" className="primary" onClick={openRun} disabled={isBusy}>
          Run…
        </button>
      </div>
      {team.is_gallery && (
        <p className="notice notice-info">
          This team is in the gallery, which nobody changes. Make an editable copy to change it.
        </p>
      )}
      <DraftOffer
        draft={editor.offer}
        version={editor.version}
        onRestore={() => {
          editor.restoreDraft();
          setProblems(null);
        }}
        onDiscard={() =>
          editor.discardDraft().catch((error) => setNotice({ kind: "error", text: error.message }))
        }
      />
      <ConflictNotice message={conflict} onReload={reloadLatest} />
      {notice && (
        <p
          className={`notice notice-${notice.kind === "ok" ? "ok" : "error"}`}
          role={notice.kind === "ok" ? "status" : "alert"}
        >
          {notice.text}
        </p>
      )}
      <ProblemsPanel problems={problems} onPick={pick} onClose={() => setProblems(null)} />
      <div className="builder-body">
        <Canvas
          spec={spec}
          keys={keys}
          catalog={catalog}
          selected={selected}
          problemCounts={problemCounts}
          isReadOnly={isReadOnly}
          onSelect={selectFromCanvas}
          onMove={onMove}
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
              </button>
            ))}
          </div>
          <div
            className="tab-panel"
            role="tabpanel"
            id={`panel-${tab}`}
            aria-labelledby={`tab-${tab}`}
          >
            {tab === "agent" && keys.length > 0 && (
              <nav className="seat-list" aria-label="Agents in seat order">
                {keys.map((key, seat) => (
                  <button
                    key={key}
                    type="button"
                    className={`small${problemCounts.get(key) ? " has-problems" : ""}`}
                    aria-pressed={key === selected}
                    onClick={() => setSelected(key)}
                  >
                    {names[seat] || "(no name)"}
                  </button>
                ))}
              </nav>
            )}
            {tab === "agent" && (
              <Inspector
                key={selected}
                participant={participant}
                index={index}
                seatCount={keys.length}
                catalog={catalog}
                teamKind={spec.kind}
                otherNames={names.filter((_, seat) => seat !== index)}
                models={choices.models}
                teams={choices.teams.filter((item) => item.id !== team.id)}
                isReadOnly={isReadOnly}
                onChange={updateParticipant}
                onRename={rename}
                onKindChange={(kind) => updateParticipant(changeKind(catalog, participant, kind))}
                onPickTeam={pickInnerTeam}
                onMove={(offset) =>
                  change((doc) => ({
                    spec: moveSeat(doc.spec, index, offset),
                    keys: moveItem(doc.keys, index, offset),
                  }))
                }
                onRemove={removeSelected}
              />
            )}
            {tab === "team" && (
              <TeamSettings
                spec={spec}
                catalog={catalog}
                names={names}
                models={choices.models}
                isReadOnly={isReadOnly}
                onChange={setSpec}
              />
            )}
            {tab === "json" && <JsonTab spec={spec} isReadOnly={isReadOnly} onApply={applyJson} />}
            {tab === "versions" && (
              <Versions
                url={`${urls.team}/versions`}
                currentVersion={editor.version}
                canRestore={!isReadOnly}
                isDirty={editor.isDirty}
                onRestored={async () => {
                  const answer = await editor.reload();
                  setProblems(null);
                  setNotice({ kind: "ok", text: `Restored as version ${answer.version}.` });
                }}
              />
            )}
          </div>
        </aside>
      </div>
      <RunDialog dialogRef={runDialog} onStart={startRun} />
    </div>
  );
}
