import { useVirtualizer } from "@tanstack/react-virtual";
import {
  Component,
  lazy,
  Suspense,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from "react";
import { requestJson } from "../api.js";
import { Markdown } from "../markdown.jsx";
import { formatCost, StatusBadge, TranscriptItem } from "./items.jsx";
import { RunStream } from "./stream.js";
import { addLocalError, applyEvent, FINAL_STATUSES, initialTranscript } from "./transcript.js";

const ConversationGraph = lazy(() => import("./graph.jsx"));

/** Keeps a side panel part that failed (its code did not load) from taking the page down. */
class PanelBoundary extends Component {
  constructor(props) {
    super(props);
    this.state = { hasFailed: false };
  }

  static getDerivedStateFromError() {
    return { hasFailed: true };
  }

  render() {
    if (this.state.hasFailed) return <p className="muted small">{this.props.message}</p>;
    return this.props.children;
  }
}

// from this many events on, even a live run's history loads over HTTP first
const SNAPSHOT_MIN_EVENTS = 1000;

const CONNECTION_LABELS = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Connection lost, reconnecting…",
  closed: "Not connected",
  refused: "The server refused the connection: reload the page or log in again.",
};

/**
 * The transcript state, folded in place as events arrive and rendered once per frame.
 * Returns [state, version, fold, reportError, hold]; `version` changes with every
 * render-worthy change, so memoized children can depend on it. `hold(true)` folds
 * without rendering (a history loading in bulk), `hold(false)` renders what came.
 */
function useTranscript(run) {
  const stateRef = useRef(null);
  if (stateRef.current === null) stateRef.current = initialTranscript(run);
  const [version, setVersion] = useState(0);
  const frameRef = useRef(0);
  const isHeldRef = useRef(false);
  const scheduleRender = useCallback(() => {
    if (frameRef.current || isHeldRef.current) return;
    frameRef.current = window.requestAnimationFrame(() => {
      frameRef.current = 0;
      setVersion(stateRef.current.version);
    });
  }, []);
  useEffect(() => () => window.cancelAnimationFrame(frameRef.current), []);
  const fold = useCallback(
    (event) => {
      applyEvent(stateRef.current, event);
      scheduleRender();
    },
    [scheduleRender],
  );
  const reportError = useCallback(
    (message) => {
      addLocalError(stateRef.current, message);
      scheduleRender();
    },
    [scheduleRender],
  );
  const hold = useCallback(
    (isHeld) => {
      isHeldRef.current = isHeld;
      if (!isHeld) scheduleRender();
    },
    [scheduleRender],
  );
  return [stateRef.current, version, fold, reportError, hold];
}

/** "in 3 h 20 min", "in 45 s": what is left of `ms`. */
function formatRemaining(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** When the human's time to answer runs out, counting down. */
function Deadline({ at, seconds }) {
  const started = Date.parse(at);
  const deadline = Number.isNaN(started) ? null : started + seconds * 1000;
  const [now, setNow] = useState(() => Date.now());
  const left = deadline === null ? null : deadline - now;
  const tick = left !== null && left < 120000 ? 1000 : 30000;
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), tick);
    return () => window.clearInterval(timer);
  }, [tick]);
  if (deadline === null) {
    const wait = formatRemaining(seconds * 1000);
    return <span data-testid="input-timeout">The run waits {wait} for an answer.</span>;
  }
  if (left <= 0) {
    return (
      <span data-testid="input-timeout" className="deadline-passed">
        The time to answer has run out.
      </span>
    );
  }
  const clock = new Date(deadline).toLocaleString([], {
    weekday: left > 20 * 3600 * 1000 ? "short" : undefined,
    hour: "2-digit",
    minute: "2-digit",
  });
  return (
    <span data-testid="input-timeout" className={left < 120000 ? "deadline-near" : ""}>
      Answer within {formatRemaining(left)} (by {clock}) or the run times out.
    </span>
  );
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
  const asker = pending.askedBy;
  return (
    <section className="input-box" aria-labelledby="input-title" data-testid="input-box">
      <h2 id="input-title" className="input-title">
        {asker ? (
          <>
            <strong data-testid="input-asker">{asker}</strong> asks you
          </>
        ) : (
          "Your input is needed"
        )}
      </h2>
      {pending.question && (
        <blockquote className="input-question" aria-label={`What ${asker || "the team"} said`}>
          <Markdown text={pending.question} />
        </blockquote>
      )}
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
          <div className="hint">
            {pending.source && <>You answer in the seat “{pending.source}”. </>}
            Ctrl+Enter sends.{" "}
            {pending.timeoutSeconds && (
              <Deadline at={pending.at} seconds={pending.timeoutSeconds} />
            )}
          </div>
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

function StreamingMessage({ entry }) {
  return (
    <article className="message streaming" aria-label={`${entry.source} is writing`}>
      <header className="message-head">
        <span className="source">{entry.source}</span>
        <span className="kind">writing…</span>
      </header>
      <div className="typing">
        <Markdown text={entry.text} />
      </div>
    </article>
  );
}

// First guesses at row heights; rows are measured once drawn. Close guesses for the
// rows at the end matter: the view opens there, and each miss costs another layout pass.
const ESTIMATED_HEIGHTS = { tools: 46, handoff: 44, thought: 34, speaker: 30 };
const LINE_HEIGHT = 22;

function estimateHeight(item) {
  if (item.kind !== "message") return ESTIMATED_HEIGHTS[item.kind] || 30;
  let lines = 1;
  let fences = 0;
  const text = item.content;
  for (let at = text.indexOf("\n"); at !== -1 && lines < 400; at = text.indexOf("\n", at + 1)) {
    lines += 1;
    if (text.startsWith("```", at + 1)) fences += 1;
  }
  // header + padding, the text's lines (long ones wrap), and each code block's chrome
  return 58 + LINE_HEIGHT * (lines + Math.floor(text.length / 110)) + 18 * fences;
}
// how close to the bottom (px) still counts as "following the conversation"
const STICK_DISTANCE = 80;

/**
 * The transcript as a virtual list: only the rows near the viewport are in the page, so
 * a run of 10,000 messages opens as fast as one of ten. It follows the conversation while
 * the reader is at the bottom, and offers a way back when they scrolled up.
 */
function Transcript({ state, version, humanNames, onFork, isLoading }) {
  const scrollRef = useRef(null);
  const stickRef = useRef(true);
  const [isAtBottom, setAtBottom] = useState(true);
  const { items } = state;
  const streams = Object.values(state.streams);
  const count = items.length + streams.length;
  // The virtualizer recomputes every row's position when its callbacks change: keep them
  // the same across renders, reading the rows of the moment through a ref.
  const rowsRef = useRef(null);
  rowsRef.current = { items, streams };
  const rowKey = useCallback((index) => {
    const rows = rowsRef.current;
    if (index >= rows.items.length) return `stream-${rows.streams[index - rows.items.length]?.key}`;
    const item = rows.items[index];
    return item.seq !== undefined ? `s${item.seq}` : `l${index}`;
  }, []);
  const estimateSize = useCallback((index) => {
    const rows = rowsRef.current;
    return index >= rows.items.length ? 96 : estimateHeight(rows.items[index]);
  }, []);
  const getScrollElement = useCallback(() => scrollRef.current, []);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement,
    estimateSize,
    getItemKey: rowKey,
    overscan: 4,
  });

  // Follow the conversation: after every render (new rows, rows measured), stay at the end.
  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (element && stickRef.current) element.scrollTop = element.scrollHeight;
  });

  const onScroll = () => {
    const element = scrollRef.current;
    const distance = element.scrollHeight - element.scrollTop - element.clientHeight;
    stickRef.current = distance < STICK_DISTANCE;
    if (stickRef.current !== isAtBottom) setAtBottom(stickRef.current);
  };
  const jumpToEnd = () => {
    stickRef.current = true;
    setAtBottom(true);
    virtualizer.scrollToIndex(count - 1, { align: "end" });
  };

  const rows = virtualizer.getVirtualItems();
  return (
    <div className="transcript-frame">
      <div
        className="transcript-scroll"
        ref={scrollRef}
        onScroll={onScroll}
        tabIndex={0}
        role="region"
        aria-label="Conversation"
        data-version={version}
      >
        {count > 0 && (
          <ol
            className="transcript"
            aria-label="Transcript"
            style={{ height: `${virtualizer.getTotalSize()}px` }}
          >
            {rows.map((row) => {
              const item = row.index < items.length ? items[row.index] : null;
              return (
                <li
                  key={row.key}
                  data-index={row.index}
                  ref={virtualizer.measureElement}
                  aria-posinset={row.index + 1}
                  aria-setsize={count}
                  style={{ transform: `translateY(${row.start}px)` }}
                >
                  {item ? (
                    <TranscriptItem
                      item={item}
                      humanNames={humanNames}
                      onFork={onFork && item.source !== "user" ? onFork : null}
                    />
                  ) : (
                    <StreamingMessage entry={streams[row.index - items.length]} />
                  )}
                </li>
              );
            })}
          </ol>
        )}
        {count === 0 && (
          <p className="transcript-empty muted" role="status" data-testid="transcript-empty">
            {isLoading ? (
              <span className="loading">Loading the conversation…</span>
            ) : (
              "Waiting for the first message…"
            )}
          </p>
        )}
      </div>
      {!isAtBottom && count > 0 && (
        <button type="button" className="jump-to-end" onClick={jumpToEnd}>
          ↓ Latest messages
        </button>
      )}
    </div>
  );
}

/** Announces new messages to screen readers while the run is live (not during replay). */
function Announcer({ state, version }) {
  const seenRef = useRef(-1);
  const [text, setText] = useState("");
  useEffect(() => {
    const { items } = state;
    const fresh = items.length - seenRef.current;
    const last = items[items.length - 1];
    if (seenRef.current >= 0 && fresh > 0 && fresh <= 3 && last?.kind === "message") {
      setText(`New message from ${last.source}`);
    }
    seenRef.current = items.length;
  }, [state, version]);
  return (
    <p className="visually-hidden" aria-live="polite">
      {text}
    </p>
  );
}

function Watchers({ names, username }) {
  if (names === null) return <p className="muted small">Looking…</p>;
  const others = names.filter((name) => name !== username);
  return (
    <ul className="watchers" data-testid="watchers">
      {names.includes(username) && (
        <li className="watcher is-you">
          <span className="watcher-avatar" aria-hidden="true">
            {username.slice(0, 1).toUpperCase()}
          </span>
          {username} (you)
        </li>
      )}
      {others.map((name) => (
        <li key={name} className="watcher">
          <span className="watcher-avatar" aria-hidden="true">
            {name.slice(0, 1).toUpperCase()}
          </span>
          {name}
        </li>
      ))}
      {!others.length && <li className="muted small">Nobody else right now.</li>}
    </ul>
  );
}

/** The live run page: transcript, human input, stop/interject, graph, watchers, meters. */
export function RunView({ config }) {
  const [state, version, fold, reportError, hold] = useTranscript(config.run);
  const [connection, setConnection] = useState("connecting");
  const [hasOpened, setOpened] = useState(false);
  const [watchers, setWatchers] = useState(null);
  const [forking, setForking] = useState(null);
  const streamRef = useRef(null);
  const humanNamesRef = useRef(new Set(config.humanNames || []));
  const isFinal = FINAL_STATUSES.has(state.status);

  useEffect(() => {
    const stream = new RunStream(config.socketPath, {
      onEvent: fold,
      onFrame: (frame) => {
        if (frame.type === "error") reportError(frame.message || "The server refused that.");
        else if (frame.type === "presence" && Array.isArray(frame.watchers)) {
          setWatchers(frame.watchers.map(String));
        }
      },
      onState: (next) => {
        setConnection(next);
        if (next === "open") setOpened(true);
      },
      presence: true,
    });
    streamRef.current = stream;
    // A long or finished history loads over HTTP in large pages (one websocket frame per
    // event is far slower), then the socket follows from there. A short live run streams.
    const isSnapshot =
      FINAL_STATUSES.has(config.run.status) || config.eventCount >= SNAPSHOT_MIN_EVENTS;
    const start = async () => {
      if (config.eventsUrl && isSnapshot) {
        hold(true); // one render once it is all in, not one per page
        try {
          await stream.load(config.eventsUrl);
          performance.mark("run:history-loaded"); // for bench/ui_run.py
          setOpened(true);
        } catch {
          // The socket replays whatever did not load.
        } finally {
          hold(false);
        }
      }
      stream.connect();
    };
    start();
    return () => stream.close();
  }, [config, fold, reportError, hold]);

  // The socket carries steering frames; the HTTP API is the fallback while it reconnects.
  const steer = useCallback(
    async (frame, url, body) => {
      if (streamRef.current && streamRef.current.send(frame)) return true;
      try {
        await requestJson(url, { method: "POST", body });
        return true;
      } catch (error) {
        reportError(error.message);
        return false;
      }
    },
    [reportError],
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
      reportError(error.message);
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

  const speakers = Object.entries(state.turns);
  const isLoading = !hasOpened && connection !== "refused";

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
        <Transcript
          state={state}
          version={version}
          humanNames={humanNamesRef.current}
          onFork={config.canSteer ? setForking : null}
          isLoading={isLoading}
        />
        <Announcer state={state} version={version} />
        {config.canSteer && state.pendingInput && !isFinal && (
          <InputBox
            pending={state.pendingInput}
            errorCount={state.errorCount}
            onSend={sendInput}
          />
        )}
        {!config.canSteer && state.pendingInput && !isFinal && (
          <p className="input-box muted small" role="status">
            {state.pendingInput.askedBy || "The team"} waits for an answer from “
            {state.pendingInput.source}”.
          </p>
        )}
        {config.canSteer && !isFinal && !state.pendingInput && (
          <Composer onInterject={interject} />
        )}
        {config.canSteer && isFinal && <ContinueBox onContinue={continueRun} />}
      </div>
      {forking && <ForkDialog item={forking} onFork={fork} onClose={() => setForking(null)} />}
      <aside className="run-side" aria-label="Run details">
        <section>
          <h2>Conversation</h2>
          <PanelBoundary message="The graph could not be drawn; reload the page to try again.">
            <Suspense fallback={<p className="muted small">Drawing the graph…</p>}>
              <ConversationGraph
                graph={state.graph}
                agents={config.agents}
                speaker={state.pendingInput?.source || state.speaker}
                version={version}
              />
            </Suspense>
          </PanelBoundary>
        </section>
        <section>
          <h2>Watching</h2>
          <Watchers names={watchers} username={config.username} />
        </section>
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
              {speakers.map(([name, turns]) => (
                <li key={name} className={name === state.speaker ? "current" : ""}>
                  <span>{name}</span>
                  <span>{turns}</span>
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
