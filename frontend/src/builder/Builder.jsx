import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { Canvas, TEAM_ID } from "./Canvas.jsx";
import { agentId, seatOfId } from "./edges.js";
import { flushPendingEdits, ProblemsProvider } from "./fields.jsx";
import { Inspector } from "./Inspector.jsx";
import { JsonTab } from "./JsonTab.jsx";
import { Breadcrumbs, SeatList } from "./Navigation.jsx";
import { ConflictNotice, DraftOffer, plural, ProblemsPanel } from "./Notices.jsx";
import { Palette } from "./Palette.jsx";
import { copyAgents, innerTeamOf } from "./placing.js";
import { RunDialog } from "./RunDialog.jsx";
import {
  changeKind,
  moveSeat,
  normalizeSpec,
  participantName,
  participantOfPath,
  pathPrefixes,
  renameParticipant,
  replaceParticipant,
  scopeOfPath,
  scopePrefix,
  teamAt,
  withPositions,
  withTeamAt,
} from "./spec.js";
import { TeamSettings } from "./TeamSettings.jsx";
import { CanvasToolbar, TeamToolbar } from "./Toolbars.jsx";
import { useCanvasEditing } from "./useCanvasEditing.js";
import { useProblems } from "./useProblems.js";
import { useSaving } from "./useSaving.js";
import { useTeamSpec } from "./useTeamSpec.js";
import { Versions } from "./Versions.jsx";

const TABS = [
  ["agent", "Agent"],
  ["team", "Team"],
  ["json", "JSON"],
  ["versions", "Versions"],
];
const NO_LISTS = { models: [], teams: [], agents: [] };

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

function isTyping(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))
  );
}

let lastNames = [];

/** The names, as the same array as last time when none changed (the seat list is memoized). */
function sameNames(names) {
  const isSame =
    names.length === lastNames.length && names.every((name, index) => name === lastNames[index]);
  if (!isSame) lastNames = names;
  return lastNames;
}

/** Problem counts by canvas node of the team at `prefix` (agents by seat, the team). */
function countProblems(problems, prefix) {
  const counts = new Map();
  for (const item of problems) {
    if (prefix && !item.path.startsWith(prefix)) continue;
    const seat = participantOfPath(item.path.slice(prefix.length));
    const id = seat >= 0 ? agentId(seat) : TEAM_ID;
    counts.set(id, (counts.get(id) || 0) + 1);
  }
  return counts;
}

/** The team builder: palette, canvas, inspector, settings, JSON, versions, save and run. */
export function Builder({ urls }) {
  const editor = useTeamSpec(urls);
  const { team, catalog, spec, isReadOnly, change } = editor;
  const [loadError, setLoadError] = useState("");
  const [lists, setLists] = useState(NO_LISTS);
  const [scope, setScope] = useState([]);
  const [selection, setSelection] = useState([]);
  const [selectedEdge, setSelectedEdge] = useState(null);
  const [tab, setTab] = useState("agent");
  const [focusRequest, setFocusRequest] = useState(null);
  const [runReasons, setRunReasons] = useState([]);
  const checker = useProblems({
    spec,
    catalog,
    url: urls.validateSpec,
    isEnabled: Boolean(team) && !isReadOnly,
  });
  const { problems } = checker;
  // The name the rest of the spec uses for a participant whose name is mid-edit (by path).
  const referenceNames = useRef(new Map());
  const runDialog = useRef(null);
  const canvas = useRef(null);

  /** Goes to a problem: its nested team, its agent or the team's settings, its field. */
  const pick = useCallback((item) => {
    const { scope: target, rest } = scopeOfPath(item.path || "");
    const seat = participantOfPath(rest);
    setScope(target);
    setSelectedEdge(null);
    if (seat >= 0) {
      setSelection([agentId(seat)]);
      setTab("agent");
    } else {
      setTab("team");
    }
    setFocusRequest({ path: item.path || "", at: performance.now() });
  }, []);

  const {
    notice,
    setNotice,
    show,
    panel,
    setPanel,
    showProblems,
    conflict,
    isBusy,
    setBusy,
    save,
    validate,
    reloadLatest,
  } = useSaving({ editor, checker, pick, onReloaded: () => setScope([]) });

  useEffect(() => {
    editor
      .load()
      .then((answer) => {
        const isEditor =
          !answer.is_gallery && (answer.role === "owner" || answer.role === "editor");
        // What the palette and the inspector's lists offer besides the catalog.
        Promise.all([
          requestJson(urls.models),
          requestJson(urls.teams),
          isEditor ? requestJson(urls.agents) : Promise.resolve([]),
        ]).then(
          ([models, teams, agents]) =>
            setLists({ models, teams: teams.filter((item) => item.id !== answer.id), agents }),
          (error) => setNotice({ kind: "error", text: `Could not list models: ${error.message}` }),
        );
      })
      .catch((error) => setLoadError(error.message));
  }, []); // once per page

  const current = spec ? teamAt(spec, scope) : null;
  const activeScope = current ? scope : [];
  const team_ = current || spec;
  const prefix = scopePrefix(activeScope);

  // A scope that no longer exists (an undo removed the nested team) falls back to the top.
  useEffect(() => {
    if (spec && !current && scope.length) setScope([]);
  }, [spec, current, scope]);

  // Seats that no longer exist leave the selection.
  const seatCount = team_ ? team_.participants.length : 0;
  useEffect(() => {
    setSelection((chosen) => {
      const kept = chosen.filter((id) => id === TEAM_ID || seatOfId(id) < seatCount);
      return kept.length === chosen.length ? chosen : kept;
    });
  }, [seatCount]);

  // Opening a team (or a nested one) selects its first agent, so the inspector shows one.
  const scopeKey = spec ? activeScope.join(".") : null;
  useEffect(() => {
    if (scopeKey === null) return;
    setSelection((chosen) =>
      chosen.length || !latest.current.team?.participants.length ? chosen : [agentId(0)],
    );
  }, [scopeKey]);

  useEffect(() => {
    if (!focusRequest) return undefined;
    const frame = requestAnimationFrame(() => focusPath(focusRequest.path));
    return () => cancelAnimationFrame(frame);
  }, [focusRequest]);

  const problemCounts = useMemo(() => countProblems(problems, prefix), [problems, prefix]);
  const outsideProblems = prefix
    ? problems.filter((item) => !item.path.startsWith(prefix)).length
    : 0;

  // The latest state, for callbacks that stay the same object (so memoized parts skip).
  const latest = useRef({});
  latest.current = { spec, scope: activeScope, team: team_, selection, lists, catalog, problems };

  /** Applies `edit(team)` to the team in view. */
  const editTeam = useCallback(
    (edit, options) =>
      change((whole) => {
        const where = latest.current.scope;
        const inner = teamAt(whole, where);
        if (!inner) return whole;
        const next = edit(inner);
        return !next || next === inner ? whole : withTeamAt(whole, where, next);
      }, options),
    [change],
  );

  const pickNodeProblem = useCallback(
    (id) => {
      const base = scopePrefix(latest.current.scope);
      const seat = seatOfId(id);
      const found = latest.current.problems.find((item) => {
        if (!item.path.startsWith(base)) return false;
        const inner = participantOfPath(item.path.slice(base.length));
        return seat >= 0 ? inner === seat : inner < 0;
      });
      if (found) pick(found);
    },
    [pick],
  );

  const openInner = useCallback((seat) => {
    setScope((path) => [...path, seat]);
    setSelection([]);
    setSelectedEdge(null);
  }, []);

  const { placeAgents, placeItem, pickItem, moveNodes, connect, deleteParts, copy, paste } =
    useCanvasEditing({
      editTeam,
      latest,
      urls,
      show,
      canvas,
      setSelection,
      setSelectedEdge,
      setTab,
    });

  const selectNodes = useCallback((ids) => {
    setSelection((chosen) =>
      chosen.length === ids.length && chosen.every((id, index) => id === ids[index]) ? chosen : ids,
    );
  }, []);

  const clickNode = useCallback((id) => {
    setSelectedEdge(null);
    setTab(id === TEAM_ID ? "team" : "agent");
  }, []);

  const selectEdge = useCallback((id) => {
    setSelectedEdge(id);
    if (id && id.startsWith("g")) setTab("team");
  }, []);

  const canvasActions = useMemo(
    () => ({
      onMove: moveNodes,
      onSelect: selectNodes,
      onNodeClick: clickNode,
      onSelectEdge: selectEdge,
      onConnect: connect,
      onDelete: deleteParts,
      onDropItem: placeItem,
    }),
    [moveNodes, selectNodes, clickNode, selectEdge, connect, deleteParts, placeItem],
  );
  const nodeActions = useMemo(
    () => ({ openInner, pickProblem: pickNodeProblem }),
    [openInner, pickNodeProblem],
  );

  // --- Undo and redo ---

  const agentSeats = selection.map(seatOfId).filter((seat) => seat >= 0);

  const undo = useCallback(() => {
    if (!editor.undo()) show("error", "Nothing to undo.");
  }, [editor.undo, show]);
  const redo = useCallback(() => {
    if (!editor.redo()) show("error", "Nothing to redo.");
  }, [editor.redo, show]);

  useEffect(() => {
    const onKey = (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      const key = event.key.toLowerCase();
      const isNativeUndo =
        event.target instanceof Element && event.target.closest("[data-native-undo]");
      if ((key === "z" || key === "y") && !isNativeUndo) {
        const isHere = document.querySelector(".builder")?.contains(event.target);
        if (!isHere && event.target !== document.body) return;
        event.preventDefault();
        if (key === "y" || event.shiftKey) redo();
        else undo();
      } else if (key === "c" && !isTyping(event.target) && !window.getSelection()?.toString()) {
        if (latest.current.selection.some((id) => id !== TEAM_ID)) {
          event.preventDefault();
          copy();
        }
      } else if (key === "v" && !isTyping(event.target)) {
        event.preventDefault();
        paste();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo, copy, paste]);

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

  const primary = selection.filter((id) => id !== TEAM_ID).at(-1) ?? null;
  const index = seatOfId(primary);
  const participant = index >= 0 ? team_.participants[index] : null;
  const names = sameNames(team_.participants.map(participantName));
  const base = `${prefix}participants[${index}]`;

  // --- Running, copying, deleting ---

  const duplicate = async () => {
    setBusy(true);
    try {
      const copyOfTeam = await requestJson(urls.duplicate, { method: "POST" });
      window.location.assign(`${urls.builderBase}${copyOfTeam.id}/`);
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
    flushPendingEdits();
    if (editor.isDirty && !isReadOnly && !(await save())) return;
    setRunReasons(isReadOnly ? [] : await checker.check(editor.specRef.current));
    runDialog.current.showModal();
  };

  const startRun = async (task, budget) => {
    const body = { team: team.id, task };
    if (budget) body.budget = budget;
    const run = await requestJson(urls.runs, { method: "POST", body });
    window.location.assign(`${urls.runPageBase}${run.id}/`);
  };

  const autoLayout = async () => {
    setBusy(true);
    try {
      const placed = await canvas.current.layout();
      editTeam((inner) => withPositions(inner, placed.positions, placed.team));
      setTimeout(() => canvas.current?.fit(), 50);
      show("ok", `Laid out ${plural(team_.participants.length, "agent")}.`);
    } catch (error) {
      show("error", `Auto-layout failed: ${error.message}`);
    } finally {
      setBusy(false);
    }
  };

  // --- Edits from the inspector ---

  const patchAgent = (seat) => (patch) =>
    editTeam(
      (inner) => {
        const agent = inner.participants[seat];
        if (!agent) return inner;
        const next = { ...agent };
        for (const [key, value] of Object.entries(patch)) {
          if (value === undefined) delete next[key];
          else next[key] = value;
        }
        return replaceParticipant(inner, seat, next);
      },
      { group: `${base}.${Object.keys(patch).join(",")}` },
    );

  const rename = (name) =>
    editTeam(
      (inner) => {
        const key = `${prefix}${index}`;
        const known = referenceNames.current.get(key);
        const reference = known ?? participantName(inner.participants[index]);
        const result = renameParticipant(inner, index, name, reference);
        if (result.referenceName === name) referenceNames.current.delete(key);
        else referenceNames.current.set(key, result.referenceName);
        return result.spec;
      },
      { group: `${base}.name` },
    );

  const pickInnerTeam = async (teamId) => {
    if (teamId === null) return;
    try {
      const inner = await requestJson(`${urls.teams}/${teamId}`);
      patchAgent(index)({ team: innerTeamOf(inner) });
    } catch (error) {
      setNotice({ kind: "error", text: `Could not load that team: ${error.message}` });
    }
  };

  // `change` is the fields to set, or a function of the team as it is when the edit lands.
  const patchTeam = (change) =>
    editTeam(
      (inner) => {
        const patch = typeof change === "function" ? change(inner) : change;
        const next = { ...inner };
        for (const [key, value] of Object.entries(patch)) {
          if (value === undefined) delete next[key];
          else next[key] = value;
        }
        return next;
      },
      {
        group:
          typeof change === "function" ? null : `${prefix}team.${Object.keys(change).join(",")}`,
      },
    );

  const applyJson = (data) => change(() => normalizeSpec(data), { group: "json" });

  const selectFromList = (id) => {
    setSelection([id]);
    setSelectedEdge(null);
    setTab("agent");
  };

  const kindLabel = catalog.team_kinds.find((item) => item.value === spec.kind)?.label || spec.kind;
  const graphEdgeIndex = selectedEdge?.startsWith("g") ? Number(selectedEdge.slice(1)) : null;

  return (
    <ProblemsProvider value={problems}>
      <div className="builder">
        <TeamToolbar
          title={spec.name || "Untitled team"}
          kindLabel={kindLabel}
          editor={editor}
          team={team}
          urls={urls}
          problems={isReadOnly ? [] : problems}
          isBusy={isBusy}
          onShowProblems={() =>
            showProblems(`${plural(problems.length, "problem")} found.`, problems)
          }
          onValidate={validate}
          onCopyTeam={duplicate}
          onSave={save}
          onDelete={deleteTeam}
          onRun={openRun}
        />
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
            setPanel(null);
            setScope([]);
          }}
          onDiscard={() =>
            editor
              .discardDraft()
              .catch((error) => setNotice({ kind: "error", text: error.message }))
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
        <ProblemsPanel problems={panel} onPick={pick} onClose={() => setPanel(null)} />
        <div className="builder-body">
          <Palette
            catalog={catalog}
            lists={lists}
            hasSelection={agentSeats.length > 0}
            isReadOnly={isReadOnly}
            onPick={pickItem}
          />
          <div className="canvas-column">
            {!isReadOnly && (
              <CanvasToolbar
                canUndo={editor.canUndo}
                canRedo={editor.canRedo}
                canLayout={!isBusy && seatCount > 0}
                canCopy={agentSeats.length > 0}
                onUndo={undo}
                onRedo={redo}
                onLayout={autoLayout}
                onCopy={copy}
                onPaste={paste}
                onAdd={() => pickItem({ type: "agent", kind: "assistant" })}
              />
            )}
            <Breadcrumbs
              spec={spec}
              scope={activeScope}
              outsideProblems={outsideProblems}
              onGo={(depth) => {
                setScope(activeScope.slice(0, depth));
                setSelection([]);
              }}
            />
            <Canvas
              key={activeScope.join(".")}
              ref={canvas}
              label={
                activeScope.length ? `Canvas of ${team_.name || "the inner team"}` : "Team canvas"
              }
              team={team_}
              catalog={catalog}
              selection={selection}
              selectedEdge={selectedEdge}
              problemCounts={problemCounts}
              isReadOnly={isReadOnly}
              actions={canvasActions}
              nodeActions={nodeActions}
            />
          </div>
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
              {tab === "agent" && (
                <SeatList
                  names={names}
                  selected={primary}
                  problemCounts={problemCounts}
                  onSelect={selectFromList}
                />
              )}
              {tab === "agent" && (
                <Inspector
                  key={`${prefix}${primary}`}
                  participant={participant}
                  index={index}
                  base={base}
                  seatCount={seatCount}
                  catalog={catalog}
                  teamKind={team_.kind}
                  otherNames={names.filter((_, seat) => seat !== index)}
                  models={lists.models}
                  teams={lists.teams}
                  isReadOnly={isReadOnly}
                  onPatch={patchAgent(index)}
                  onRename={rename}
                  onKindChange={(kind) =>
                    editTeam((inner) =>
                      replaceParticipant(
                        inner,
                        index,
                        changeKind(catalog, inner.participants[index], kind),
                      ),
                    )
                  }
                  onPickTeam={pickInnerTeam}
                  onOpenInner={() => openInner(index)}
                  onMove={(offset) => {
                    editTeam((inner) => moveSeat(inner, index, offset));
                    setSelection([agentId(index + offset)]);
                  }}
                  onRemove={() => deleteParts({ nodes: [primary], edges: [] })}
                  onDuplicate={() => {
                    const [entry] = copyAgents(team_, [index]);
                    const at = entry.position;
                    placeAgents([entry.participant], at ? { x: at.x + 155, y: at.y + 95 } : null);
                  }}
                  onPickProblem={pick}
                />
              )}
              {tab === "team" && (
                <TeamSettings
                  key={prefix}
                  spec={team_}
                  base={prefix}
                  catalog={catalog}
                  names={names}
                  models={lists.models}
                  isReadOnly={isReadOnly}
                  selectedEdge={graphEdgeIndex}
                  onPatch={patchTeam}
                  onPickProblem={pick}
                />
              )}
              {tab === "json" && (
                <JsonTab
                  spec={spec}
                  schema={catalog.spec_schema}
                  isReadOnly={isReadOnly}
                  onApply={applyJson}
                />
              )}
              {tab === "versions" && (
                <Versions
                  url={`${urls.team}/versions`}
                  currentVersion={editor.version}
                  canRestore={!isReadOnly}
                  isDirty={editor.isDirty}
                  onRestored={async () => {
                    const answer = await editor.reload();
                    setPanel(null);
                    setScope([]);
                    setNotice({ kind: "ok", text: `Restored as version ${answer.version}.` });
                  }}
                />
              )}
            </div>
          </aside>
        </div>
        <RunDialog dialogRef={runDialog} reasons={runReasons} onStart={startRun} onPick={pick} />
      </div>
    </ProblemsProvider>
  );
}
