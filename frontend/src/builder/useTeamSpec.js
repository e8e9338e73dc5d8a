// The builder's document: the team's spec as loaded and as edited, every edit undoable, the
// unsaved work kept as a server-side draft (a second after the last edit, and on leaving
// the page), and saving it whole as the next version.
//
//   GET  team      -> {…summary, spec, version, draft, is_gallery, role}
//   PUT  draft     {spec, base_version}        (any object, valid or not)
//   DELETE draft                               (when the spec is back to the saved one)
//   PUT  spec      {spec, base_version, note}  -> the team | 422 errors | 409 message

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { flushPendingEdits } from "./fields.jsx";
import { isSameSpec, normalizeSpec } from "./spec.js";

const AUTOSAVE_DELAY_MS = 1000;
// Browsers refuse keepalive requests with bodies over 64 KiB.
const KEEPALIVE_MAX_CHARS = 60_000;
// Edits of one field within this long of each other undo together (typing a name).
const GROUP_WINDOW_MS = 1500;
const HISTORY_LIMIT = 300;

let catalogRequest = null;

/** The catalog never changes while the page is open: one request. */
function loadCatalog(url) {
  if (!catalogRequest) {
    catalogRequest = requestJson(url).catch((error) => {
      catalogRequest = null;
      throw error;
    });
  }
  return catalogRequest;
}

function canEdit(team) {
  return !team.is_gallery && (team.role === "owner" || team.role === "editor");
}

export function useTeamSpec(urls) {
  const [team, setTeam] = useState(null);
  const [catalog, setCatalog] = useState(null);
  const [saved, setSaved] = useState(null);
  const [spec, setSpec] = useState(null);
  const [offer, setOffer] = useState(null);
  const [edits, setEdits] = useState(0);
  const [draftState, setDraftState] = useState("idle");
  const [draftError, setDraftError] = useState("");
  const [isSaving, setSaving] = useState(false);
  const [undoState, setUndoState] = useState({ canUndo: false, canRedo: false });
  // The latest values, for work that finishes after an await.
  const specRef = useRef(null);
  const savedRef = useRef(null);
  const versionRef = useRef(null);
  const timerRef = useRef(null);
  // The spec the server last received (loaded, drafted or saved): leaving with another sends it.
  const sentRef = useRef(null);
  const draftChain = useRef(Promise.resolve());
  const history = useRef({ past: [], future: [], group: null, at: 0 });
  const isReadOnly = team ? !canEdit(team) : true;
  const readOnlyRef = useRef(true);
  readOnlyRef.current = isReadOnly;

  const showHistory = useCallback(() => {
    const { past, future } = history.current;
    setUndoState((current) =>
      current.canUndo === past.length > 0 && current.canRedo === future.length > 0
        ? current
        : { canUndo: past.length > 0, canRedo: future.length > 0 },
    );
  }, []);

  const forgetHistory = useCallback(() => {
    history.current = { past: [], future: [], group: null, at: 0 };
    showHistory();
  }, [showHistory]);

  /** Takes a team as the server answered it. */
  const accept = useCallback((answer, { keepSpec = false } = {}) => {
    const next = normalizeSpec(answer.spec);
    savedRef.current = next;
    versionRef.current = answer.version;
    setTeam(answer);
    setSaved(next);
    if (keepSpec && specRef.current) return;
    specRef.current = next;
    sentRef.current = next;
    setSpec(next);
  }, []);

  const load = useCallback(async () => {
    const [answer, entries] = await Promise.all([
      requestJson(urls.team),
      loadCatalog(urls.catalog),
    ]);
    setCatalog(entries);
    accept(answer);
    forgetHistory();
    const draft = answer.draft;
    const isWorthOffering =
      draft &&
      canEdit(answer) &&
      !isSameSpec(normalizeSpec(draft.spec), normalizeSpec(answer.spec));
    setOffer(isWorthOffering ? draft : null);
    return answer;
  }, [urls, accept, forgetHistory]);

  /** Sends the spec to the draft now (or deletes the draft when nothing differs). */
  const flushDraft = useCallback(
    ({ keepalive = false } = {}) => {
      clearTimeout(timerRef.current);
      timerRef.current = null;
      const current = specRef.current;
      sentRef.current = current;
      const isClean = isSameSpec(current, savedRef.current);
      const body = { spec: current, base_version: versionRef.current };
      const isKept = keepalive && JSON.stringify(body).length <= KEEPALIVE_MAX_CHARS;
      setDraftState("saving");
      const sent = draftChain.current.then(() =>
        isClean
          ? requestJson(urls.draft, { method: "DELETE", keepalive: isKept })
          : requestJson(urls.draft, { method: "PUT", body, keepalive: isKept }),
      );
      draftChain.current = sent.catch(() => {});
      return sent.then(
        () => {
          if (!timerRef.current) setDraftState("idle");
        },
        (error) => {
          setDraftError(error.message);
          if (!timerRef.current) setDraftState("failed");
        },
      );
    },
    [urls],
  );

  const show = useCallback((next) => {
    specRef.current = next;
    setSpec(next);
    setOffer(null);
    setEdits((count) => count + 1);
  }, []);

  /**
   * Applies an edit: `edit(spec)` returns the next spec, or the same one for none. Edits
   * with the same `group` in quick succession undo as one.
   */
  const change = useCallback(
    (edit, { group = null } = {}) => {
      flushPendingEdits(); // a half-typed value lands first, so this edit builds on it
      const current = specRef.current;
      if (!current || readOnlyRef.current) return;
      const next = edit(current);
      if (!next || next === current) return;
      const log = history.current;
      const now = performance.now();
      const isSameGroup = group !== null && log.group === group && now - log.at < GROUP_WINDOW_MS;
      if (!isSameGroup) {
        log.past.push(current);
        if (log.past.length > HISTORY_LIMIT) log.past.shift();
      }
      log.group = group;
      log.at = now;
      log.future = [];
      show(next);
      showHistory();
    },
    [show, showHistory],
  );

  const undo = useCallback(() => {
    flushPendingEdits();
    const log = history.current;
    if (!log.past.length || readOnlyRef.current) return false;
    log.future.push(specRef.current);
    log.group = null;
    show(log.past.pop());
    showHistory();
    return true;
  }, [show, showHistory]);

  const redo = useCallback(() => {
    flushPendingEdits();
    const log = history.current;
    if (!log.future.length || readOnlyRef.current) return false;
    log.past.push(specRef.current);
    log.group = null;
    show(log.future.pop());
    showHistory();
    return true;
  }, [show, showHistory]);

  // Autosave: a second after the last edit, the spec goes to the draft.
  useEffect(() => {
    if (!edits || isReadOnly) return undefined;
    setDraftState("pending");
    clearTimeout(timerRef.current);
    timerRef.current = setTimeout(() => flushDraft(), AUTOSAVE_DELAY_MS);
    return undefined;
  }, [edits, isReadOnly, flushDraft]);

  // Leaving the page with an edit still waiting sends it on its way.
  useEffect(() => {
    const leave = () => {
      flushPendingEdits(); // a value still being typed lands now, before any timer could run
      const isUnsent = specRef.current && specRef.current !== sentRef.current;
      if (!readOnlyRef.current && (timerRef.current || isUnsent)) flushDraft({ keepalive: true });
    };
    window.addEventListener("beforeunload", leave);
    window.addEventListener("pagehide", leave);
    return () => {
      window.removeEventListener("beforeunload", leave);
      window.removeEventListener("pagehide", leave);
      clearTimeout(timerRef.current);
    };
  }, [flushDraft]);

  /** Waits until the draft holds the latest edit. */
  const settleDraft = useCallback(async () => {
    flushPendingEdits();
    if (timerRef.current) await flushDraft();
    else await draftChain.current;
  }, [flushDraft]);

  /**
   * Saves the whole spec as the next version. Resolves to {isSaved: true} or
   * {isSaved: false, error} (an ApiError: 422 with problems, 409 with who saved when).
   */
  const save = useCallback(async () => {
    setSaving(true);
    try {
      await settleDraft();
      const sent = specRef.current;
      const answer = await requestJson(urls.spec, {
        method: "PUT",
        body: { spec: sent, base_version: versionRef.current },
      });
      // An edit made while the save was on its way stays (and goes to the draft).
      const isEditedMeanwhile = specRef.current !== sent;
      accept(answer, { keepSpec: isEditedMeanwhile });
      if (!isEditedMeanwhile) setDraftState("idle");
      return { isSaved: true, version: answer.version };
    } catch (error) {
      return { isSaved: false, error };
    } finally {
      setSaving(false);
    }
  }, [urls, accept, settleDraft]);

  /** Loads the latest saved version; the draft stays on the server to restore. */
  const reload = useCallback(async () => {
    await settleDraft();
    return load();
  }, [load, settleDraft]);

  const restoreDraft = useCallback(() => {
    const draft = offer;
    if (!draft) return;
    const restored = normalizeSpec(draft.spec);
    change(() => restored);
  }, [offer, change]);

  const discardDraft = useCallback(async () => {
    setOffer(null);
    await requestJson(urls.draft, { method: "DELETE" });
  }, [urls]);

  const isDirty = useMemo(
    () => Boolean(spec && saved && spec !== saved && !isSameSpec(spec, saved)),
    [spec, saved],
  );
  return {
    team,
    catalog,
    spec,
    saved,
    specRef,
    version: team?.version ?? null,
    isReadOnly,
    isDirty,
    isSaving,
    offer,
    draftState,
    draftError,
    canUndo: undoState.canUndo,
    canRedo: undoState.canRedo,
    load,
    reload,
    change,
    undo,
    redo,
    save,
    settleDraft,
    restoreDraft,
    discardDraft,
  };
}
