import { createRoot } from "react-dom/client";
import { RunHistory } from "./RunHistory.jsx";

const root = document.getElementById("history-root");
const form = document.getElementById("run-filters");
if (root && form) {
  // fields the server does not fill in start from the bookmarked query string
  const params = new URLSearchParams(window.location.search);
  for (const name of ["verdict", "created_after", "created_before"]) {
    const field = form.elements.namedItem(name);
    if (field && params.get(name)) field.value = params.get(name);
  }
  const teams = JSON.parse(document.getElementById("run-list-teams")?.textContent || "[]");
  createRoot(root).render(
    <RunHistory
      form={form}
      teams={teams}
      runsUrl={root.dataset.runsUrl}
      runPageBase={root.dataset.runPageBase}
      compareUrl={root.dataset.compareUrl}
    />,
  );
}
