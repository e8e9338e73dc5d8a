// Pieces of a transcript, shared by the live run view and the run comparison.
import { memo } from "react";
import { Markdown } from "../markdown.jsx";
import { formatDuration } from "./durations.js";

const STATUS_LABELS = {
  queued: "Queued",
  running: "Running",
  awaiting_input: "Waiting for you",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
  timed_out: "Timed out",
  budget_exhausted: "Budget exhausted",
};

/** A status pill; `status` is one of the run's status values. */
export function StatusBadge({ status }) {
  return (
    <span className={`badge badge-${status}`} data-testid="run-status">
      {STATUS_LABELS[status] || status}
    </span>
  );
}

/** Dollars with enough digits to show small amounts. */
export function formatCost(value) {
  if (!value) return "$0.00";
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

function formatTime(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString();
}

function formatArguments(raw) {
  if (raw === null || raw === undefined) return "";
  if (typeof raw !== "string") return JSON.stringify(raw, null, 2);
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function ToolCard({ call }) {
  const result = call.result;
  const isError = Boolean(result && result.is_error);
  let status = "running…";
  if (result) status = isError ? "failed" : "done";
  const duration = formatDuration(call.durationMs);
  return (
    <details className={`tool-card${isError ? " has-error" : ""}`} open={isError}>
      <summary>
        <span className="tool-label">Tool</span>
        <span className="tool-name">{call.name || "tool"}</span>
        <span className={`tool-status${result ? "" : " is-running"}`}>{status}</span>
        {duration && (
          <span className="tool-duration" title="How long the call took">
            {duration}
          </span>
        )}
      </summary>
      <div className="tool-body">
        {call.arguments !== null && (
          <>
            <h4>Arguments</h4>
            <pre>{formatArguments(call.arguments) || "(none)"}</pre>
          </>
        )}
        {result && !isError && (
          <>
            <h4>Result</h4>
            <pre>{String(result.content ?? "")}</pre>
          </>
        )}
        {isError && (
          <>
            <h4>Error</h4>
            <pre className="tool-error">{String(result.content ?? "")}</pre>
          </>
        )}
        {!result && <p className="muted small">Waiting for the result…</p>}
      </div>
    </details>
  );
}

const MESSAGE_KINDS = {
  StopMessage: "stop",
  ToolCallSummaryMessage: "tool results",
  Interjection: "interjection",
};

function MessageItem({ item, humanNames, onFork }) {
  const isUser = item.isFromPerson || item.source === "user" || humanNames.has(item.source);
  return (
    <article
      className={`message${isUser ? " from-user" : ""}`}
      aria-label={`Message from ${item.source}`}
      data-seq={item.seq}
    >
      <header className="message-head">
        <span className="source">{item.source}</span>
        {MESSAGE_KINDS[item.messageType] && (
          <span className="kind">{MESSAGE_KINDS[item.messageType]}</span>
        )}
        {item.isEdited && <span className="kind">edited</span>}
        <time className="time" dateTime={item.at}>
          {formatTime(item.at)}
        </time>
        {item.seq !== undefined && <span className="seq">#{item.seq}</span>}
        {onFork && item.seq !== undefined && (
          <button
            type="button"
            className="button-link small fork"
            onClick={() => onFork(item)}
            aria-label={`Fork the run from message ${item.seq}`}
          >
            Fork from here
          </button>
        )}
      </header>
      <Markdown text={item.content} />
    </article>
  );
}

/** One transcript item; memoized: items are replaced, never edited, when they change. */
export const TranscriptItem = memo(function TranscriptItem({ item, humanNames, onFork }) {
  switch (item.kind) {
    case "message":
      return <MessageItem item={item} humanNames={humanNames} onFork={onFork} />;
    case "tools":
      return (
        <div className="tool-group" data-seq={item.seq} aria-label={`Tool calls of ${item.source}`}>
          {item.calls.map((call, index) => (
            <ToolCard key={call.id || index} call={call} />
          ))}
        </div>
      );
    case "handoff":
      return (
        <div className="handoff" data-seq={item.seq}>
          <p className="event-line">
            <strong>{item.source}</strong> <span className="arrow">→</span> handed off to{" "}
            <strong>{item.target}</strong>
          </p>
          {item.content && <p className="event-line small">{item.content}</p>}
        </div>
      );
    case "speaker":
      return (
        <p className="event-line">
          Next speaker: <strong>{item.speakers.join(", ")}</strong>
        </p>
      );
    case "thought":
      return (
        <details className="event-line thought">
          <summary>{item.source} is thinking</summary>
          <Markdown text={item.content} />
        </details>
      );
    case "interjection":
      return (
        <p className="event-line">
          <strong>{item.user}</strong> interjected; the team hears it at the next turn: “
          {item.content}”
        </p>
      );
    case "error":
      return (
        <p className="event-line error" role="alert">
          {item.content}
        </p>
      );
    default:
      return <p className="event-line">{item.content}</p>;
  }
});
