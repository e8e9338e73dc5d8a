// Saving, checking and reloading the builder's team, and what they tell the user: a notice
// (ok or error), the problems panel, a stale-save conflict, and whether a call is under way.

import { useCallback, useState } from "react";
import { flushPendingEdits } from "./fields.jsx";
import { plural } from "./Notices.jsx";

/**
 * `editor` is useTeamSpec's, `checker` useProblems'; `pick(problem)` shows a problem's
 * field; `onReloaded()` runs after the latest version replaced the work in view.
 */
export function useSaving({ editor, checker, pick, onReloaded }) {
  const [notice, setNotice] = useState(null);
  const [panel, setPanel] = useState(null);
  const [conflict, setConflict] = useState("");
  const [isBusy, setBusy] = useState(false);

  /** Puts up a notice of `kind` "ok" or "error"; no kind takes it down. */
  const show = useCallback((kind, text) => setNotice(kind ? { kind, text } : null), []);

  const showProblems = (message, items) => setPanel({ message, items });

  /** Checks, then saves; resolves to whether a new version was saved. */
  const save = async () => {
    setNotice(null);
    setConflict("");
    flushPendingEdits();
    setBusy(true);
    try {
      const found = await checker.check(editor.specRef.current);
      if (found.length) {
        showProblems(
          `Save refused: ${plural(found.length, "problem")}. ` +
            "Nothing was saved; your work stays in the draft.",
          found,
        );
        pick(found[0]);
        return false;
      }
      const sent = editor.specRef.current;
      const result = await editor.save();
      if (result.isSaved) {
        setPanel(null);
        setNotice({ kind: "ok", text: `Saved as version ${result.version}.` });
        return true;
      }
      const { error } = result;
      if (error.status === 422 && error.problems.length) {
        checker.accept(sent, error.problems);
        showProblems(`Save refused: ${error.message}`, error.problems);
        pick(error.problems[0]);
      } else if (error.status === 409) {
        setConflict(error.message);
      } else {
        setNotice({ kind: "error", text: error.message });
      }
      return false;
    } finally {
      setBusy(false);
    }
  };

  const validate = async () => {
    flushPendingEdits();
    setBusy(true);
    try {
      const found = await checker.check(editor.specRef.current);
      setPanel(
        found.length
          ? { message: `${plural(found.length, "problem")} found.`, items: found }
          : { isValid: true, items: [] },
      );
    } finally {
      setBusy(false);
    }
  };

  const reloadLatest = async () => {
    setBusy(true);
    try {
      await editor.reload();
      setConflict("");
      setPanel(null);
      setNotice(null);
      onReloaded();
    } catch (error) {
      setNotice({ kind: "error", text: error.message });
    } finally {
      setBusy(false);
    }
  };

  return {
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
  };
}
