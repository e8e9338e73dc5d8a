import { createRoot } from "react-dom/client";
import { RunView } from "./RunView.jsx";

const root = document.getElementById("run-root");
if (root) {
  const data = root.dataset;
  const config = {
    runId: data.runId,
    teamName: data.teamName,
    task: data.task,
    socketPath: data.socketPath,
    inputUrl: data.inputUrl,
    stopUrl: data.stopUrl,
    interjectUrl: data.interjectUrl,
    continueUrl: data.continueUrl,
    forkUrl: data.forkUrl,
    teamUrl: data.teamUrl,
    historyUrl: data.historyUrl,
    canSteer: data.canSteer === "true",
    humanNames: JSON.parse(document.getElementById("run-human-names")?.textContent || "[]"),
    run: {
      status: data.status,
      stopReason: data.stopReason,
      promptTokens: data.promptTokens,
      completionTokens: data.completionTokens,
      costUsd: data.costUsd,
    },
  };
  createRoot(root).render(<RunView config={config} />);
}
