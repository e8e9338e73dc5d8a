// The run's websocket: resumes from the last seq it saw, reconnects with backoff,
// and hands each event to the view once.
//
// Close codes: 4400-4499 mean "refused" (logged out, no right to watch) and end the
// stream. Every other close reconnects with ?after=<last seq>: a dropped connection or a
// restarted server (1006, 1001, 1012), and 1011, which the server sends when it can no
// longer follow the run (its database went away) rather than keep a silent socket open.

import { requestJson } from "../api.js";

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10000;
const PING_EVERY_MS = 25000;
// A socket that delivered a frame or stayed open this long resets the backoff; one that
// the server closes straight away (still failing) keeps backing off.
const STABLE_AFTER_MS = 10000;
// Events per request when a run's history loads over HTTP (the API's largest page).
const PAGE_SIZE = 2000;

/** Builds the absolute ws:// or wss:// URL for a same-origin path. */
export function socketUrl(path, after, { presence = false } = {}) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = new URL(path, window.location.href);
  url.protocol = scheme;
  if (presence) url.searchParams.set("presence", "1");
  url.searchParams.set("after", String(after));
  return url.toString();
}

/**
 * A self-healing connection to `/ws/runs/<id>/`.
 *
 * `onEvent(event)` gets every event with a seq exactly once, in arrival order, plus
 * live-only events that carry no seq (streaming chunks). `onFrame(frame)` gets server
 * frames that are not events (error, pong, presence: asked for with `presence: true`).
 * `onState(state)` reports "connecting" | "open" | "reconnecting" | "closed" | "refused".
 */
export class RunStream {
  constructor(path, { onEvent, onFrame = () => {}, onState = () => {}, presence = false }) {
    this.path = path;
    this.presence = presence;
    this.onEvent = onEvent;
    this.onFrame = onFrame;
    this.onState = onState;
    this.lastSeq = 0;
    this.seen = new Set();
    this.socket = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.isFinished = false;
    this.isStopped = false;
    this.isStable = false;
    this.openedAt = 0;
  }

  /** Opens the socket; later calls after a close resume from the last seq. */
  connect() {
    if (this.isStopped) return;
    this.onState(this.attempt === 0 ? "connecting" : "reconnecting");
    const socket = new WebSocket(socketUrl(this.path, this.lastSeq, { presence: this.presence }));
    this.socket = socket;
    this.isStable = false;
    socket.addEventListener("open", () => {
      this.openedAt = Date.now();
      this.onState("open");
      this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
    });
    socket.addEventListener("message", (message) => {
      this.isStable = true;
      this.receive(message.data);
    });
    socket.addEventListener("close", (event) => this.handleClose(socket, event.code));
  }

  /**
   * Loads the persisted events after the last seq over HTTP, page by page, before the
   * socket opens: a long history arrives far faster in a few large pages than as one
   * websocket frame per event. The socket then resumes after the last seq loaded.
   */
  async load(eventsUrl) {
    const fetchPage = (after) => {
      const request = requestJson(`${eventsUrl}?after=${after}&limit=${PAGE_SIZE}`);
      request.catch(() => {}); // a page asked for ahead may go unused; its failure too
      return request;
    };
    // Seqs have no gaps, so page k+1 starts PAGE_SIZE seqs after page k: the next page is
    // asked for before this one arrives, and the server is never idle between pages.
    let after = this.lastSeq;
    let next = fetchPage(after + PAGE_SIZE);
    let page = await fetchPage(after);
    for (;;) {
      if (this.isStopped || !Array.isArray(page)) return;
      for (const event of page) this.accept(event);
      if (page.length < PAGE_SIZE) return;
      const isContiguous = page[page.length - 1].seq === after + PAGE_SIZE;
      after = this.lastSeq;
      const current = isContiguous ? next : fetchPage(after);
      next = fetchPage(after + PAGE_SIZE);
      page = await current;
    }
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    this.accept(frame);
  }

  accept(frame) {
    if (typeof frame.seq !== "number") {
      if (frame.type === "message.chunk") this.onEvent(frame);
      else this.onFrame(frame);
      return;
    }
    if (this.seen.has(frame.seq)) return;
    this.seen.add(frame.seq);
    if (frame.seq > this.lastSeq) this.lastSeq = frame.seq;
    if (frame.type === "run.finished") this.isFinished = true;
    this.onEvent(frame);
  }

  handleClose(socket, code) {
    window.clearInterval(this.pingTimer);
    if (socket !== this.socket) return;
    this.socket = null;
    if (code >= 4400 && code < 4500) {
      // The server refused us (not logged in any more, or no right to watch): retrying won't help.
      this.isStopped = true;
      this.onState("refused");
      return;
    }
    if (this.isStopped || this.isFinished) {
      this.onState("closed");
      return;
    }
    if (this.isStable || (this.openedAt && Date.now() - this.openedAt >= STABLE_AFTER_MS)) {
      this.attempt = 0;
    }
    this.openedAt = 0;
    const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.onState("reconnecting");
    this.retryTimer = window.setTimeout(() => this.connect(), delay * (0.75 + Math.random() / 2));
  }

  /** Follows a finished run again (it was continued): reconnects if the socket closed. */
  resume() {
    this.isFinished = false;
    if (!this.socket && !this.isStopped) {
      this.attempt = 0;
      this.connect();
    }
  }

  /** Sends a client frame; false when the socket is not open right now. */
  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes for good (the page is going away). */
  close() {
    this.isStopped = true;
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    if (this.socket) this.socket.close();
  }
}
