import { createRoot } from "react-dom/client";
import { RunHistory } from "./RunHistory.jsx";

const root = document.getElementById("history-root");
const form = document.getElementById("run-filters");
if (root && form) {
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
