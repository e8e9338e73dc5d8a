// Team list page: the "New team" and "Import" dialogs.
import { errorText, fillUrl, requestJson } from "../api.js";

function showError(element, error) {
  element.textContent = errorText(error);
  element.hidden = false;
}

function setupCreate(root) {
  const dialog = document.getElementById("create-dialog");
  const form = dialog.querySelector("form");
  const errorBox = dialog.querySelector(".error-text");
  document.getElementById("create-team").addEventListener("click", () => {
    errorBox.hidden = true;
    form.reset();
    dialog.showModal();
  });
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const team = await requestJson(root.dataset.teamsUrl, {
        method: "POST",
        body: {
          name: String(fields.get("name") || "").trim(),
          description: String(fields.get("description") || "").trim(),
          kind: fields.get("kind"),
        },
      });
      window.location.assign(fillUrl(root.dataset.builderUrl, { id: team.id }));
    } catch (error) {
      showError(errorBox, error);
      submit.disabled = false;
    }
  });
}

/** The reasons (or warnings) under a report line, one line each with its path. */
function problemLines(items, className) {
  const box = document.createElement("div");
  box.className = className;
  for (const item of items) {
    const line = document.createElement("div");
    if (item.path) {
      const code = document.createElement("code");
      code.textContent = item.path;
      line.append(code, document.createTextNode(": "));
    }
    line.append(document.createTextNode(item.message || String(item)));
    box.append(line);
  }
  return box;
}

/** One component of the report: what it is, what happened, and every reason and warning. */
function reportLine(entry, builderUrl) {
  const item = document.createElement("li");
  const isImported = entry.ok === true || entry.imported === true;
  const status = entry.status || (isImported ? "imported" : "failed");
  const isOk = status === "imported";
  const mark = document.createElement("span");
  mark.className = isOk ? "ok" : status === "skipped" ? "muted" : "fail";
  mark.textContent = isOk ? "✓ " : status === "skipped" ? "– " : "✗ ";
  item.append(mark);
  const label = [entry.component_type || entry.kind, entry.label || entry.name]
    .filter(Boolean)
    .join(" ");
  if (isOk && entry.id && entry.kind === "team" && builderUrl) {
    const link = document.createElement("a");
    link.href = fillUrl(builderUrl, { id: entry.id });
    link.textContent = label || "team";
    item.append(link);
  } else {
    item.append(document.createTextNode(label || "component"));
  }
  item.append(document.createTextNode(` — ${status}`));
  const problems = Array.isArray(entry.problems) ? entry.problems : [];
  const detail = entry.reason || entry.message || entry.error || "";
  if (detail) problems.unshift({ path: "", message: detail });
  if (problems.length) item.append(problemLines(problems, "report-problems error-text small"));
  const warnings = Array.isArray(entry.warnings) ? entry.warnings : [];
  if (warnings.length) {
    const note = document.createElement("div");
    note.className = "small muted";
    note.textContent = `${warnings.length} warning${warnings.length === 1 ? "" : "s"}:`;
    item.append(note, problemLines(warnings, "report-warnings small muted"));
  }
  return item;
}

function reportEntries(result) {
  if (Array.isArray(result)) return result;
  if (!result || typeof result !== "object") return [];
  return result.report || result.components || result.items || [];
}

function setupImport(root) {
  const dialog = document.getElementById("import-dialog");
  const form = dialog.querySelector("form");
  const errorBox = dialog.querySelector(".error-text");
  const report = dialog.querySelector(".report");
  const summary = dialog.querySelector(".report-summary");
  const done = dialog.querySelector("[data-done]");
  let hasImported = false;
  document.getElementById("import-team").addEventListener("click", () => {
    errorBox.hidden = true;
    summary.hidden = true;
    report.replaceChildren();
    form.reset();
    dialog.showModal();
  });
  dialog.querySelector("[data-close]").addEventListener("click", () => {
    dialog.close();
    if (hasImported) window.location.reload();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    summary.hidden = true;
    report.replaceChildren();
    const file = form.elements.file.files[0];
    const pasted = form.elements.text.value.trim();
    let body;
    try {
      body = JSON.parse(file ? await file.text() : pasted);
    } catch {
      const message = "That is not a JSON file. Choose a .json export or paste one.";
      showError(errorBox, new Error(message));
      return;
    }
    try {
      const result = await requestJson(root.dataset.importUrl, { method: "POST", body });
      const entries = reportEntries(result);
      report.replaceChildren(...entries.map((entry) => reportLine(entry, root.dataset.builderUrl)));
      hasImported = true;
      done.hidden = false;
      if (!entries.length) report.append(reportLine({ status: "imported", label: "Import done" }));
      const failed = entries.filter((entry) => entry.status === "failed").length;
      summary.textContent = `${entries.length - failed} imported or skipped, ${failed} failed.`;
      summary.hidden = false;
    } catch (error) {
      showError(errorBox, error);
      const entries = reportEntries(error.body);
      report.replaceChildren(...entries.map((entry) => reportLine(entry, root.dataset.builderUrl)));
    }
  });
}

const root = document.getElementById("team-list");
if (root) {
  setupCreate(root);
  setupImport(root);
}
