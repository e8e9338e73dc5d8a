// The builder's two toolbars: the team's (save, check, run, export) and the canvas's
// (undo, redo, auto-layout, copy, paste).

import { openShareDialog } from "../sharing/open.jsx";
import { plural } from "./Notices.jsx";

function saveStateText(editor) {
  if (editor.isReadOnly) return "Read only";
  if (editor.isSaving || editor.draftState === "pending" || editor.draftState === "saving") {
    return "Saving…";
  }
  if (!editor.isDirty) return "All changes saved";
  if (editor.draftState === "failed") return `Draft not saved: ${editor.draftError}`;
  return "Draft saved";
}

/** The team's actions, with where its unsaved work stands. */
export function TeamToolbar({
  title,
  kindLabel,
  editor,
  team,
  urls,
  problems,
  isBusy,
  onShowProblems,
  onValidate,
  onCopyTeam,
  onSave,
  onDelete,
  onRun,
}) {
  const { isReadOnly } = editor;
  return (
    <div className="toolbar" role="toolbar" aria-label="Team actions">
      <h1>{title}</h1>
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
      {problems.length > 0 && (
        <button
          type="button"
          className="small problem-count"
          data-testid="problem-count"
          onClick={onShowProblems}
        >
          ⚠ {plural(problems.length, "problem")}
        </button>
      )}
      <span className="spacer" />
      <button type="button" onClick={onValidate} disabled={isBusy || editor.isSaving}>
        Validate
      </button>
      {isReadOnly ? (
        <button type="button" className="primary" onClick={onCopyTeam} disabled={isBusy}>
          Make an editable copy
        </button>
      ) : (
        <button
          type="button"
          onClick={onSave}
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
        <button
          type="button"
          aria-label={`Share ${team.name}`}
          onClick={(event) =>
            openShareDialog({
              sharesUrl: urls.shares,
              name: team.name,
              returnTo: event.currentTarget,
            })
          }
        >
          Share…
        </button>
      )}
      {team.role === "owner" && !team.is_gallery && (
        <button type="button" className="danger" onClick={onDelete} disabled={isBusy}>
          Delete
        </button>
      )}
      <button type="button" className="primary" onClick={onRun} disabled={isBusy}>
        Run…
      </button>
    </div>
  );
}

/** The canvas's tools; each edit they make is one undoable step. */
export function CanvasToolbar({
  canUndo,
  canRedo,
  canLayout,
  canCopy,
  onUndo,
  onRedo,
  onLayout,
  onCopy,
  onPaste,
  onAdd,
}) {
  return (
    <div className="canvas-toolbar" role="toolbar" aria-label="Canvas">
      <button
        type="button"
        onClick={onUndo}
        disabled={!canUndo}
        aria-keyshortcuts="Control+Z"
        title="Undo (Ctrl+Z)"
      >
        Undo
      </button>
      <button
        type="button"
        onClick={onRedo}
        disabled={!canRedo}
        aria-keyshortcuts="Control+Shift+Z Control+Y"
        title="Redo (Ctrl+Shift+Z)"
      >
        Redo
      </button>
      <button type="button" onClick={onLayout} disabled={!canLayout}>
        Auto-layout
      </button>
      <button type="button" onClick={onCopy} disabled={!canCopy} aria-keyshortcuts="Control+C">
        Copy
      </button>
      <button type="button" onClick={onPaste} aria-keyshortcuts="Control+V">
        Paste
      </button>
      <button type="button" onClick={onAdd}>
        + Add agent
      </button>
    </div>
  );
}
