// Form inputs made from a catalog field ({name, label, required, help, default, schema}):
// the JSON Schema's type picks the input. `data-path` carries the spec path of the value so a
// problem the server reports (`termination.conditions[0].max_messages`) can focus its input.

import { useEffect, useState } from "react";
import { fieldKind } from "./spec.js";

/** A labelled block with an optional hint under the input. */
export function Field({ id, label, hint, children }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
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

/**
 * A text box for a list, kept as typed while the typed text still means the same list (so a
 * trailing comma or a blank line can be typed).
 */
function ListInput({ id, path, value, isLines, onChange }) {
  const list = Array.isArray(value) ? value : [];
  const join = (items) => items.join(isLines ? "\n" : ", ");
  const split = isLines ? splitLines : splitNames;
  const [text, setText] = useState(() => join(list));
  const shown = JSON.stringify(split(text)) === JSON.stringify(list) ? text : join(list);
  useEffect(() => {
    if (shown !== text) setText(shown);
  }, [shown, text]);
  const change = (event) => {
    setText(event.target.value);
    const items = split(event.target.value);
    onChange(items.length ? items : undefined);
  };
  return isLines ? (
    <textarea id={id} data-path={path} rows={4} value={shown} onChange={change} />
  ) : (
    <input id={id} data-path={path} type="text" value={shown} onChange={change} />
  );
}

/** A JSON text box: the value changes only when the text parses. */
function JsonInput({ id, path, value, onChange }) {
  const format = (item) =>
    item === undefined || item === null ? "" : JSON.stringify(item, null, 2);
  const [text, setText] = useState(() => format(value));
  const [error, setError] = useState("");
  useEffect(() => {
    setText((current) => {
      try {
        const parsed = current.trim() ? JSON.parse(current) : undefined;
        if (JSON.stringify(parsed ?? null) === JSON.stringify(value ?? null)) return current;
      } catch {
        return current;
      }
      return format(value);
    });
  }, [value]);
  const change = (event) => {
    const raw = event.target.value;
    setText(raw);
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
  return (
    <>
      <textarea
        id={id}
        data-path={path}
        className="code"
        rows={3}
        spellCheck={false}
        value={text}
        aria-invalid={error ? true : undefined}
        onChange={change}
      />
      {error && <div className="error-text small">{error}</div>}
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
  if (kind === "boolean") {
    return (
      <div className="field">
        <label className="checkbox" title={field.help || undefined}>
          <input
            id={id}
            data-path={path}
            type="checkbox"
            checked={Boolean(value)}
            onChange={(event) => onChange(event.target.checked)}
          />
          {field.label}
        </label>
      </div>
    );
  }
  let input;
  if (kind === "integer" || kind === "number") {
    const minimum = schema.minimum ?? schema.exclusiveMinimum;
    input = (
      <input
        id={id}
        data-path={path}
        type="number"
        min={minimum}
        max={schema.maximum}
        step={kind === "integer" ? 1 : "any"}
        value={value ?? ""}
        onChange={(event) => onChange(parseNumber(event.target.value, kind === "integer"))}
      />
    );
  } else if (kind === "string") {
    const isLong = !schema.maxLength || schema.maxLength > 200;
    const change = (event) => {
      const text = event.target.value;
      onChange(text === "" && isNullable ? undefined : text);
    };
    input = isLong ? (
      <textarea id={id} data-path={path} rows={rows || 2} value={value ?? ""} onChange={change} />
    ) : (
      <input
        id={id}
        data-path={path}
        type="text"
        maxLength={schema.maxLength}
        value={value ?? ""}
        onChange={change}
      />
    );
  } else if (kind === "names" || kind === "lines") {
    input = (
      <ListInput id={id} path={path} value={value} isLines={kind === "lines"} onChange={onChange} />
    );
  } else {
    input = <JsonInput id={id} path={path} value={value} onChange={onChange} />;
  }
  const listHint = kind === "names" ? "Comma separated." : kind === "lines" ? "One per line." : "";
  return (
    <Field
      id={id}
      label={field.label}
      hint={[hint, listHint].filter(Boolean).join(" ") || undefined}
    >
      {input}
    </Field>
  );
}
