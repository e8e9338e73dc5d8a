// The problems of the spec being edited, found as it is edited: the JSON Schema's at once in
// the browser, and a moment later everything a save would be refused for, from the server
// (POST /api/teams/validate, which stores nothing). Each problem has the spec path the
// server uses, so the canvas marks its node and the form its field.

import { useCallback, useEffect, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { checkSchema } from "./schema.js";

const CHECK_DELAY_MS = 600;
const NO_PROBLEMS = [];

/** Whether two specs differ only in their layout (which no check looks at). */
function isSameButLayout(a, b) {
  if (a === b) return true;
  if (!a || !b) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    if (key !== "layout" && a[key] !== b[key]) return false;
  }
  return true;
}

/** The server's problems, and the schema's at paths the server did not name. */
function merge(serverItems, schemaItems) {
  const named = new Set(serverItems.map((item) => item.path));
  return [...serverItems, ...schemaItems.filter((item) => !named.has(item.path))];
}

export function useProblems({ spec, catalog, url, isEnabled }) {
  const [problems, setProblems] = useState(NO_PROBLEMS);
  const checked = useRef({ spec: null, items: NO_PROBLEMS });
  const sequence = useRef(0);
  const timer = useRef(null);

  // The same problems as before keep their array, so nothing that shows them redraws.
  const show = useCallback((items) => {
    const next = items.length ? items : NO_PROBLEMS;
    setProblems((current) =>
      current === next || JSON.stringify(current) === JSON.stringify(next) ? current : next,
    );
  }, []);

  /** Checks `target` now; resolves to its problems (the last known ones if the server
   * cannot be reached). */
  const check = useCallback(
    async (target) => {
      clearTimeout(timer.current);
      if (isSameButLayout(checked.current.spec, target)) return checked.current.items;
      const mine = ++sequence.current;
      const local = checkSchema(target, catalog.spec_schema);
      let items;
      try {
        const answer = await requestJson(url, { method: "POST", body: { spec: target } });
        items = merge(answer.problems, local);
      } catch (error) {
        // A spec the server cannot even read (too big, say) still has its schema problems.
        items = merge(error.problems || [], local);
        if (!items.length) items = [{ path: "", message: error.message }];
      }
      if (mine === sequence.current) {
        checked.current = { spec: target, items };
        show(items);
      }
      return items;
    },
    [catalog, url, show],
  );

  // Re-check a moment after the last edit.
  useEffect(() => {
    if (!isEnabled || !spec || !catalog) return undefined;
    if (isSameButLayout(checked.current.spec, spec)) return undefined;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => check(spec), CHECK_DELAY_MS);
    return () => clearTimeout(timer.current);
  }, [spec, catalog, isEnabled, check]);

  /** Takes problems the server answered a save with (they hold for `target`). */
  const accept = useCallback(
    (target, items) => {
      sequence.current += 1;
      checked.current = { spec: target, items };
      show(items);
    },
    [show],
  );

  return { problems, check, accept };
}
