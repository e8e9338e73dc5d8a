import { useCallback, useEffect, useLayoutEffect, useReducer, useRef, useState } from "react";
import { requestJson } from "../api.js";
import { Markdown } from "../markdown.jsx";
import { formatCost, StatusBadge, TranscriptItem } from "./items.jsx";
import { RunStream } from "./stream.js";
import { applyEvent, FINAL_STATUSES, initialTranscript } from "./transcript.js";

const CONNECTION_LABELS = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Connection lost, reconnecting…",
  closed: "Not connected",
  refused: "The server refused the connection: reload the page or log in again.",
};

function reducer(state, action) {
  if (action.type === "event") return applyEvent(state, action.event);
  if (action.type === "local-error") {
    return {
      ...state,
      errorCount: state.errorCount + 1,
      items: [...state.items, { kind: "error", content: action.message }],
    };
  }
  return state;
}

function InputBox({ pending, errorCount, onSend }) {
  const [text, setText] = useState("");
  const [isSending, setSending] = useState(false);
  const areaRef = useRef(null);
  useEffect(() => {
    setSending(false);
    if (areaRef.current) areaRef.current.focus();
  }, [pending.requestId]);
  useEffect(() => setSending(false), [errorCount]);
  const submit = async (event) => {
    event.preventDefault();
    setSending(true);
    const isSent = await onSend(pending.requestId, text);
    if (isSent) setText("");
    else setSending(false);
  };
  return (
    <section className="input-box" aria-label="Your input is needed">
      <form onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="human-input">
            {pending.prompt || "The team is waiting for your answer"}
          </label>
          <textarea
            id="human-input"
            ref={areaRef}
            value={text}
            rows={2}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) submit(event);
            }}
          />
          {pending.source && (
            <div className="hint">
              You answer in the seat “{pending.source}”. Ctrl+Enter sends.
            </div>
          )}
        </div>
        <button type="submit" className="primary" disabled={isSending}>
          {isSending ? "Sending…" : "Send answer"}
        </button>
      </form>
    </section>
  );
}

function Composer({ onInterject }) {
  const [text, setText] = useState("");
  const submit = async (event) => {
    event.preventDefault();
    if (!text.trim()) return;
    if (await onInterject(text)) setText("");
  };
  return (
    <section className="composer" aria-label="Interject">
      <form onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="interject-text" className="visually-hidden">
            Interject a message
          </label>
          <textarea
            id="interject-text"
            value={text}
            rows={1}
            placeholder="Interject: a message the team sees at the next turn"
            onChange={(event) => setText(event.target.value)}
          />
        </div>
        <button type="submit" disabled={!text.trim()}>
          Interject
        </button>
      </form>
    </section>
  );
}

function ContinueBox({ onContinue }) {
  const [text, setText] = useState("");
  const [isSending, setSending] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setSending(true);
    if (await onContinue(text.trim())) setText("");
    setSending(false);
  };
  return (
    <section className="composer" aria-label="Continue the run">
      <form onSubmit={submit}>
        <div className="field grow">
          <label htmlFor="continue-task" className="visually-hidden">
            Continue with a new task
          </label>
          <textarea
            id="continue-task"
            value={text}
            rows={1}
            placeholder="Continue the conversation with a new task (optional)"
            onChange={(event) => setText(event.target.value)}
          />
        </div>
        <button type="submit" disabled={isSending}>
          Continue run
        </button>
      </form>
    </section>
  );
}

function ForkDialog({ item, onFork, onClose }) {
  const dialogRef = useRef(null);
  const [text, setText] = useState(item.content);
  const [error, setError] = useState("");
  useEffect(() => {
    dialogRef.current.showModal();
  }, []);
  const submit = async (event) => {
    event.preventDefault();
    try {
      await onFork(item, text);
    } catch (problem) {
      setError(problem.message);
    }
  };
  return (
    <dialog ref={dialogRef} onClose={onClose} aria-labelledby="fork-title">
      <form onSubmit={submit}>
        <h2 id="fork-title">Fork from message #{item.seq}</h2>
        <p className="muted small">
          A new run starts from the conversation as it was at this message from{" "}
          {item.source}. Edit the message to try another path.
        </p>
        <div className="field">
          <label htmlFor="fork-content">Message</label>
          <textarea
            id="fork-content"
            rows={6}
            value={text}
            onChange={(event) => setText(event.target.value)}
          />
        </div>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" onClick={() => dialogRef.current.close()}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Start the fork
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** The live run page: transcript, human input, stop/interject and the meters. */
export function RunView({ config }) {
  const [state, dispatch] = useReducer(reducer, config.run, initialTranscript);
  const [connection, setConnection] = useState("connecting");
  const [forking, setForking] = useState(null);
  const streamRef = useRef(null);
  const listRef = useRef(null);
  const stickRef = useRef(true);
  const humanNames = new Set(config.humanNames || []);
  const isFinal = FINAL_STATUSES.has(state.status);

  useEffect(() => {
    const stream = new RunStream(config.socketPath, {
      onEvent: (event) => dispatch({ type: "event", event }),
      onFrame: (frame) => {
        if (frame.type === "error") {
          dispatch({ type: "local-error", message: frame.message || "The server refused that." });
        }
      },
      onState: setConnection,
    });
    streamRef.current = stream;
    stream.connect();
    return () => stream.close();
  }, [config.socketPath]);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && stickRef.current) list.scrollTop = list.scrollHeight;
  });

  const onScroll = () => {
    const list = listRef.current;
    stickRef.current = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  };

  // The socket carries steering frames; the HTTP API is the fallback while it reconnects.
  const steer = useCallback(
    async (frame, url, body) => {
      if (streamRef.current && streamRef.current.send(frame)) return true;
      try {
        await requestJson(url, { method: "POST", body });
        return true;
      } catch (error) {
        dispatch({ type: "local-error", message: error.message });
        return false;
      }
    },
    [],
  );

  const sendInput = (requestId, content) =>
    steer({ type: "input", request_id: requestId, content }, config.inputUrl, {
      request_id: requestId,
      content,
    });
  const stop = () => steer({ type: "stop" }, config.stopUrl, {});
  const continueRun = async (task) => {
    try {
      await requestJson(config.continueUrl, { method: "POST", body: { task } });
      streamRef.current.resume();
      return true;
    } catch (error) {
      dispatch({ type: "local-error", message: error.message });
      return false;
    }
  };
  const fork = async (item, content) => {
    const run = await requestJson(config.forkUrl, {
      method: "POST",
      body: { from_seq: item.seq, edited_content: content === item.content ? null : content },
    });
    window.location.assign(`${config.historyUrl}${run.id}/`);
  };
  const interject = (content) =>
    steer({ type: "interject", content }, config.interjectUrl, { content });

  const streams = Object.values(state.streams);
  const speakers = Object.entries(state.turns);

  return (
    <div className="run-layout">
      <div className="run-main">
        <div className="run-head">
          <h1>
            Run #{config.runId}
            {config.teamName ? ` · ${config.teamName}` : ""}
          </h1>
          <StatusBadge status={state.status} />
          <span
            className={`connection ${connection}`}
            role="status"
            data-testid="connection-state"
          >
            {isFinal && connection !== "refused" ? "" : CONNECTION_LABELS[connection]}
          </span>
          <span className="spacer" />
          {config.canSteer && (
            <button type="button" className="danger" onClick={stop} disabled={isFinal}>
              Stop
            </button>
          )}
          {config.task && (
            <p className="task">
              <strong>Task:</strong> {config.task}
            </p>
          )}
        </div>
        <ol
          className="transcript"
          ref={listRef}
          onScroll={onScroll}
          aria-label="Transcript"
          aria-live="polite"
        >
          {state.items.map((item, index) => (
            <li key={item.seq !== undefined ? `s${item.seq}` : `l${index}`}>
              <TranscriptItem
                item={item}
                humanNames={humanNames}
                onFork={config.canSteer && item.source !== "user" ? setForking : null}
              />
            </li>
          ))}
          {streams.map((entry) => (
            <li key={`stream-${entry.key}`}>
              <article className="message streaming" aria-label={`${entry.source} is writing`}>
                <header className="message-head">
                  <span className="source">{entry.source}</span>
                  <span className="kind">writing…</span>
                </header>
                <div className="typing">
                  <Markdown text={entry.text} />
                </div>
              </article>
            </li>
          ))}
          {!state.items.length && !streams.length && (
            <li className="muted">Waiting for the first message…</li>
          )}
        </ol>
        {config.canSteer && state.pendingInput && !isFinal && (
          <InputBox
            pending={state.pendingInput}
            errorCount={state.errorCount}
            onSend={sendInput}
          />
        )}
        {config.canSteer && !isFinal && !state.pendingInput && (
          <Composer onInterject={interject} />
        )}
        {config.canSteer && isFinal && <ContinueBox onContinue={continueRun} />}
      </div>
      {forking && <ForkDialog item={forking} onFork={fork} onClose={() => setForking(null)} />}
      <aside className="run-side" aria-label="Run details">
        <section>
          <h2>Usage</h2>
          <dl className="meter" data-testid="usage-meter">
            <dt>Prompt tokens</dt>
            <dd>{state.usage.promptTokens.toLocaleString()}</dd>
            <dt>Completion tokens</dt>
            <dd>{state.usage.completionTokens.toLocaleString()}</dd>
            <dt>Total tokens</dt>
            <dd>{state.usage.totalTokens.toLocaleString()}</dd>
            <dt>Cost</dt>
            <dd>{formatCost(state.usage.costUsd)}</dd>
          </dl>
        </section>
        <section>
          <h2>Speakers</h2>
          {speakers.length ? (
            <ul className="speakers">
              {speakers.map(([name, count]) => (
                <li key={name} className={name === state.speaker ? "current" : ""}>
                  <span>{name}</span>
                  <span>{count}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted small">Nobody has spoken yet.</p>
          )}
        </section>
        {state.stopReason && (
          <section>
            <h2>Stop reason</h2>
            <p className="stop-reason" data-testid="stop-reason">
              {state.stopReason}
            </p>
          </section>
        )}
        <section>
          <h2>Links</h2>
          <ul className="small">
            {config.teamUrl && (
              <li>
                <a href={config.teamUrl}>Open the team</a>
              </li>
            )}
            <li>
              <a href={config.historyUrl}>All runs</a>
            </li>
          </ul>
        </section>
      </aside>
    </div>
  );
}
