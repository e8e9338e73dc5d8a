// JSON calls to the studio's /api/ with the session cookie and Django's CSRF token.

/** An API answer that was not 2xx; `problems` lists `{path, message}` when the server gave them. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
    this.problems = collectProblems(body);
  }
}

function collectProblems(body) {
  if (!body || typeof body !== "object") return [];
  const list = body.problems || body.errors || (Array.isArray(body.detail) ? body.detail : []);
  if (!Array.isArray(list)) return [];
  return list.map((item) => ({
    path: Array.isArray(item.loc) ? item.loc.join(".") : String(item.path ?? item.field ?? ""),
    message: String(item.message ?? item.msg ?? item.detail ?? JSON.stringify(item)),
  }));
}

/** Problems on one line: `path: message; path: message`. */
function problemsLine(problems) {
  return problems.map((p) => `${p.path}: ${p.message}`).join("; ");
}

/** What to tell the user about a failed call: its message, then every problem listed. */
export function errorText(error) {
  if (!error.problems || !error.problems.length) return error.message;
  return `${error.message} ${problemsLine(error.problems)}`;
}

function messageOf(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.message === "string") return body.message;
    if (typeof body.detail === "string") return body.detail;
    const problems = collectProblems(body);
    if (problems.length) return problemsLine(problems);
  }
  if (typeof body === "string" && body.trim() && body.length < 300) return body.trim();
  return `The server answered ${status}.`;
}

/** Django's CSRF token: the page's meta tag first, the cookie as a fallback. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const cookie = document.cookie.split("; ").find((part) => part.startsWith("csrftoken="));
  return cookie ? decodeURIComponent(cookie.slice("csrftoken=".length)) : "";
}

/** Sends `body` as JSON to `url` and returns the decoded answer; throws ApiError otherwise. */
export async function requestJson(url, { method = "GET", body, signal, keepalive } = {}) {
  const headers = { Accept: "application/json" };
  // `keepalive` lets a request outlive the page (a draft flushed while the tab closes).
  const init = { method, headers, credentials: "same-origin", signal, keepalive };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = text;
  if (text && (response.headers.get("Content-Type") || "").includes("json")) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) throw new ApiError(response.status, messageOf(response.status, data), data);
  return text ? data : null;
}

/** Replaces `{name}` placeholders of a URL template with encoded values. */
export function fillUrl(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name]));
}

/** Reads the island's JSON props: every data-* attribute of `element`, camel-cased. */
export function readDataset(element) {
  return { ...element.dataset };
}
