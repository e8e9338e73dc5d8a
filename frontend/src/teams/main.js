// Team list page: the "New team" and "Import" dialogs.
import { fillUrl, requestJson } from "../api.js";

function showError(element, error) {
  element.textContent = error.problems && error.problems.length
    ? `${error.message} ${error.problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`
    : error.message;
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

function reportLine(entry) {
  const item = document.createElement("li");
  const isOk = entry.status === "imported" || entry.ok === true || entry.imported === true;
  const mark = document.createElement("span");
  mark.className = isOk ? "ok" : "fail";
  mark.textContent = isOk ? "✓ " : "✗ ";
  item.append(mark);
  const label = [entry.component_type || entry.kind, entry.label || entry.name]
    .filter(Boolean)
    .join(" ");
  item.append(document.createTextNode(label || "component"));
  const detail = entry.reason || entry.message || entry.error || "";
  if (detail) item.append(document.createTextNode(`: ${detail}`));
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
  const done = dialog.querySelector("[data-done]");
  let hasImported = false;
  document.getElementById("import-team").addEventListener("click", () => {
    errorBox.hidden = true;
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
    report.replaceChildren();
    const file = form.elements.file.files[0];
    const pasted = form.elements.text.value.trim();
    let body;
    try {
      body = JSON.parse(file ? await file.text() : pasted);
    } catch {
      showError(errorBox, new Error("That is not a JSON file. Choose a .json export or paste one."));
      return;
    }
    try {
      const result = await requestJson(root.dataset.importUrl, { method: "POST", body });
      const entries = reportEntries(result);
      report.replaceChildren(...entries.map(reportLine));
      hasImported = true;
      done.hidden = false;
      if (!entries.length) report.append(reportLine({ status: "imported", label: "Import done" }));
    } catch (error) {
      showError(errorBox, error);
      const entries = reportEntries(error.body);
      report.replaceChildren(...entries.map(reportLine));
    }
  });
}

const root = document.getElementById("team-list");
if (root) {
  setupCreate(root);
  setupImport(root);
}
