// Form inputs made from a catalog field ({name, label, required, help, default, schema}):
// the JSON Schema's type picks the input. `data-path` carries the spec path of the value so a
// problem (`termination.conditions[0].max_messages`) can focus its input, and each field shows
// the problems of its path under it, tied to the input for assistive technology
// (aria-invalid, aria-describedby).
//
// Text is kept in the field while it is typed and reaches the spec a moment after the last
// key, on blur, or when anything calls `flushPendingEdits()` (save, undo, run): the canvas
// is not redrawn on every key.

import {
  cloneElement,
  createContext,
  isValidElement,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
} from "react";
import { fieldKind } from "./spec.js";

const COMMIT_DELAY_MS = 300;
const pendingEdits = new Set();

/** Sends every half-typed value to the spec now. */
export function flushPendingEdits() {
  for (const flush of [...pendingEdits]) flush();
}

/**
 * Text state for an input bound to a spec value: `[text, setText, flush]`. The value coming
 * back from the spec (after an undo, say) replaces the text unless an edit is pending.
 */
export function useCommittedText(value, commit, delay = COMMIT_DELAY_MS) {
  const [text, setTextState] = useState(value);
  const [seen, setSeen] = useState(value);
  const state = useRef({ isPending: false, timer: null, text: value, commit });
  state.current.commit = commit;
  if (value !== seen) {
    setSeen(value);
    if (!state.current.isPending) {
      state.current.text = value;
      setTextState(value);
    }
  }
  const flush = useCallback(() => {
    const current = state.current;
    clearTimeout(current.timer);
    pendingEdits.delete(flush);
    if (!current.isPending) return;
    current.isPending = false;
    current.commit(current.text);
  }, []);
  const setText = useCallback(
    (next) => {
      const current = state.current;
      current.text = next;
      current.isPending = true;
      setTextState(next);
      pendingEdits.add(flush);
      clearTimeout(current.timer);
      current.timer = setTimeout(flush, delay);
    },
    [flush, delay],
  );
  useEffect(() => flush, [flush]); // leaving the form keeps what was typed
  return [text, setText, flush];
}

// --- Problems by path ---

const ProblemsContext = createContext([]);
export const ProblemsProvider = ProblemsContext.Provider;

function isUnder(path, prefix) {
  return path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** The messages of the problems at `path` (and below it, for fields that stand for a whole
 * value such as a model or a list). */
export function useFieldProblems(path, isCatchAll = false) {
  const problems = useContext(ProblemsContext);
  if (!path || !problems.length) return NO_MESSAGES;
  const found = problems
    .filter((item) => item.path === path || (isCatchAll && isUnder(item.path, path)))
    .map((item) =>
      item.path === path ? item.message : `${item.path.slice(path.length + 1)}: ${item.message}`,
    );
  return found.length ? found : NO_MESSAGES;
}
const NO_MESSAGES = [];

/** The problems (`{path, message}`) under a path prefix (an agent's, the team's). */
export function useProblemsUnder(prefix, isWanted = () => true) {
  const problems = useContext(ProblemsContext);
  return problems.filter(
    (item) => (item.path === prefix || isUnder(item.path, prefix) || !prefix) && isWanted(item),
  );
}

/**
 * A labelled block: the input (its only child), the problems of its path, a hint. The input
 * is given aria-invalid and aria-describedby pointing at the problems and the hint.
 */
export function Field({ id, label, hint, path, isCatchAll = false, children }) {
  const messages = useFieldProblems(path, isCatchAll);
  const hintId = hint ? `${id}-hint` : undefined;
  const problemId = messages.length ? `${id}-problem` : undefined;
  const describedBy = [problemId, hintId].filter(Boolean).join(" ") || undefined;
  const input = isValidElement(children)
    ? cloneElement(children, {
        "aria-invalid": messages.length ? true : undefined,
        "aria-describedby": describedBy,
      })
    : children;
  return (
    <div className={`field${messages.length ? " has-problem" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {input}
      {messages.length > 0 && (
        <div id={problemId} className="field-problem">
          {messages.join(" · ")}
        </div>
      )}
      {hint && (
        <div id={hintId} className="hint">
          {hint}
        </div>
      )}
    </div>
  );
}

// --- Inputs ---

/** A text input or textarea whose text reaches the spec after typing pauses. */
export function TextInput({ value, onCommit, isMultiline = false, rows, ...rest }) {
  const [text, setText, flush] = useCommittedText(value ?? "", onCommit);
  const props = {
    ...rest,
    value: text,
    onChange: (event) => setText(event.target.value),
    onBlur: flush,
  };
  return isMultiline ? <textarea rows={rows || 2} {...props} /> : <input type="text" {...props} />;
}

function splitNames(text) {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function splitLines(text) {
  return text.split("\n").filter((line) => line.trim());
}

/** A text box for a list: names separated by commas, or lines. */
function ListInput({ value, isLines, onChange, ...rest }) {
  const list = Array.isArray(value) ? value : [];
  const join = (items) => items.join(isLines ? "\n" : ", ");
  const split = isLines ? splitLines : splitNames;
  const joined = join(list);
  const commit = (text) => {
    const items = split(text);
    onChange(items.length ? items : undefined);
  };
  const [text, setText, flush] = useCommittedText(joined, commit);
  const props = { ...rest, value: text, onChange: (e) => setText(e.target.value), onBlur: flush };
  return isLines ? <textarea rows={4} {...props} /> : <input type="text" {...props} />;
}

/** A JSON text box: the value changes only when the text parses. */
function JsonInput({ value, onChange, ...rest }) {
  const format = (item) =>
    item === undefined || item === null ? "" : JSON.stringify(item, null, 2);
  const [error, setError] = useState("");
  const commit = (raw) => {
    if (!raw.trim()) {
      setError("");
      onChange(undefined);
      return;
    }
    try {
      onChange(JSON.parse(raw));
      setError("");
    } catch (problem) {
      setError(`Not JSON yet: ${problem.message}`);
    }
  };
  const [text, setText, flush] = useCommittedText(format(value), commit);
  const errorId = error && rest.id ? `${rest.id}-json-error` : undefined;
  const describedBy = [rest["aria-describedby"], errorId].filter(Boolean).join(" ") || undefined;
  return (
    <>
      <textarea
        {...rest}
        className="code"
        rows={3}
        spellCheck={false}
        value={text}
        aria-invalid={error || rest["aria-invalid"] ? true : undefined}
        aria-describedby={describedBy}
        onChange={(event) => setText(event.target.value)}
        onBlur={flush}
      />
      {error && (
        <div id={errorId} className="error-text small">
          {error}
        </div>
      )}
    </>
  );
}

function parseNumber(raw, isInteger) {
  if (raw === "") return undefined;
  const number = Number(raw);
  if (!Number.isFinite(number)) return undefined;
  return isInteger ? Math.trunc(number) : number;
}

/** One input for one catalog field; `onChange(undefined)` means "leave it unset". */
export function SchemaField({ id, path, field, value, rows, onChange }) {
  const { kind, isNullable, schema } = fieldKind(field.schema);
  const hint = field.help || undefined;
  const messages = useFieldProblems(path, false);
  if (kind === "boolean") {
    const problemId = messages.length ? `${id}-problem` : undefined;
    return (
      <div className={`field${messages.length ? " has-problem" : ""}`}>
        <label className="checkbox" title={field.help || undefined}>
          <input
            id={id}
            data-path={path}
            type="checkbox"
            checked={Boolean(value)}
            aria-invalid={messages.length ? true : undefined}
            aria-describedby={problemId}
            onChange={(event) => onChange(event.target.checked)}
          />
          {field.label}
        </label>
        {problemId && (
          <div id={problemId} className="field-problem">
            {messages.join(" · ")}
          </div>
        )}
      </div>
    );
  }
  let input;
  if (kind === "integer" || kind === "number") {
    const minimum = schema.minimum ?? schema.exclusiveMinimum;
    input = (
      <TextInput
        id={id}
        data-path={path}
        type="number"
        min={minimum}
        max={schema.maximum}
        step={kind === "integer" ? 1 : "any"}
        value={value === undefined || value === null ? "" : String(value)}
        onCommit={(text) => onChange(parseNumber(text, kind === "integer"))}
      />
    );
  } else if (kind === "choice") {
    input = (
      <select
        id={id}
        data-path={path}
        value={value ?? ""}
        onChange={(event) => onChange(event.target.value || undefined)}
      >
        {isNullable && <option value="">—</option>}
        {schema.enum.map((item) => (
          <option key={item} value={item}>
            {item}
          </option>
        ))}
      </select>
    );
  } else if (kind === "string") {
    const isLong = !schema.maxLength || schema.maxLength > 200;
    input = (
      <TextInput
        id={id}
        data-path={path}
        isMultiline={isLong}
        rows={rows || 2}
        maxLength={isLong ? undefined : schema.maxLength}
        value={value ?? ""}
        onCommit={(text) => onChange(text === "" && isNullable ? undefined : text)}
      />
    );
  } else if (kind === "names" || kind === "lines") {
    input = (
      <ListInput
        id={id}
        data-path={path}
        value={value}
        isLines={kind === "lines"}
        onChange={onChange}
      />
    );
  } else {
    input = <JsonInput id={id} data-path={path} value={value} onChange={onChange} />;
  }
  const listHint = kind === "names" ? "Comma separated." : kind === "lines" ? "One per line." : "";
  return (
    <Field
      id={id}
      path={path}
      isCatchAll={kind === "json" || kind === "names" || kind === "lines"}
      label={field.label}
      hint={[hint, listHint].filter(Boolean).join(" ") || undefined}
    >
      {input}
    </Field>
  );
}
