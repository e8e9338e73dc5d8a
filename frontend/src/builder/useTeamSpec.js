// The builder's document: the team's spec as loaded and as edited, its unsaved work kept as
// a server-side draft (a second after the last edit), and saving it whole as the next version.
//
//   GET  team      -> {…summary, spec, version, draft, is_gallery, role}
//   PUT  draft     {spec, base_version}        (any object, valid or not)
//   DELETE draft                               (when the spec is back to the saved one)
//   PUT  spec      {spec, base_version, note}  -> the team | 422 errors | 409 message

import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { isSameSpec, normalizeSpec } from "./spec.js";

const AUTOSAVE_DELAY_MS = 1000;
// Browsers refuse keepalive requests with bodies over 64 KiB.
const KEEPALIVE_MAX_CHARS = 60_000;

let catalogRequest = null;
let keyCount = 0;

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

/** A key for a canvas node that no earlier node had. */
export function newKey() {
  keyCount += 1;
  return `node-${keyCount}`;
}

function freshKeys(count) {
  return Array.from({ length: count }, newKey);
}

function canEdit(team) {
  return !team.is_gallery && (team.role === "owner" || team.role === "editor");
}

export function useTeamSpec(urls) {
  const [team, setTeam] = useState(null);
  const [catalog, setCatalog] = useState(null);
  const [saved, setSaved] = useState(null);
  const [doc, setDoc] = useState(null);
  const [offer, setOffer] = useState(null);
  const [edits, setEdits] = useState(0);
  const [draftState, setDraftState] = useState("idle");
  const [draftError, setDraftError] = useState("");
  const [isSaving, setSaving] = useState(false);
  // The latest values, for work that finishes after an await.
  const docRef = useRef(null);
  const savedRef = useRef(null);
  const versionRef = useRef(null);
  const timerRef = useRef(null);
  const draftChain = useRef(Promise.resolve());
  const isReadOnly = team ? !canEdit(team) : true;

  /** Takes a team as the server answered it; keeps the canvas keys when the seats match. */
  const accept = useCallback((answer, { keepKeys = false, keepDoc = false } = {}) => {
    const spec = normalizeSpec(answer.spec);
    const current = docRef.current;
    savedRef.current = spec;
    versionRef.current = answer.version;
    setTeam(answer);
    setSaved(spec);
    if (keepDoc && current) return;
    const keys =
      keepKeys && current && current.keys.length === spec.participants.length
        ? current.keys
        : freshKeys(spec.participants.length);
    docRef.current = { spec, keys };
    setDoc(docRef.current);
  }, []);

  const load = useCallback(async () => {
    const [answer, entries] = await Promise.all([
      requestJson(urls.team),
      loadCatalog(urls.catalog),
    ]);
    setCatalog(entries);
    accept(answer);
    const draft = answer.draft;
    const isWorthOffering =
      draft &&
      canEdit(answer) &&
      !isSameSpec(normalizeSpec(draft.spec), normalizeSpec(answer.spec));
    setOffer(isWorthOffering ? draft : null);
    return answer;
  }, [urls, accept]);

  /** Sends the spec to the draft now (or deletes the draft when nothing differs). */
  const flushDraft = useCallback(
    ({ keepalive = false } = {}) => {
      clearTimeout(timerRef.current);
      timerRef.current = null;
      const spec = docRef.current.spec;
      const isClean = isSameSpec(spec, savedRef.current);
      const body = { spec, base_version: versionRef.current };
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

  /** Applies an edit: `edit(doc)` returns the next {spec, keys}, or the same doc for none. */
  const change = useCallback(
    (edit) => {
      const current = docRef.current;
      if (!current || isReadOnly) return;
      const next = edit(current);
      if (!next || next === current) return;
      docRef.current = next;
      setDoc(next);
      setOffer(null);
      setEdits((count) => count + 1);
    },
    [isReadOnly],
  );

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
      if (timerRef.current) flushDraft({ keepalive: true });
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
      const sent = docRef.current;
      const answer = await requestJson(urls.spec, {
        method: "PUT",
        body: { spec: sent.spec, base_version: versionRef.current },
      });
      // An edit made while the save was on its way stays (and goes to the draft).
      const isEditedMeanwhile = docRef.current !== sent;
      accept(answer, { keepKeys: true, keepDoc: isEditedMeanwhile });
      if (!isEditedMeanwhile) setDraftState("idle");
      return { isSaved: true, version: answer.version, keys: sent.keys };
    } catch (error) {
      return { isSaved: false, error, keys: docRef.current.keys };
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
    const spec = normalizeSpec(draft.spec);
    change(() => ({ spec, keys: freshKeys(spec.participants.length) }));
  }, [offer, change]);

  const discardDraft = useCallback(async () => {
    setOffer(null);
    await requestJson(urls.draft, { method: "DELETE" });
  }, [urls]);

  const isDirty = Boolean(doc && saved && !isSameSpec(doc.spec, saved));
  return {
    team,
    catalog,
    spec: doc?.spec,
    keys: doc?.keys,
    version: team?.version ?? null,
    isReadOnly,
    isDirty,
    isSaving,
    offer,
    draftState,
    draftError,
    load,
    reload,
    change,
    save,
    restoreDraft,
    discardDraft,
  };
}
