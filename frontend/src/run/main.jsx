import "@xyflow/react/dist/style.css";
import "./run.css";
import { createRoot } from "react-dom/client";
import { RunView } from "./RunView.jsx";
import { applyEvent, foldEvents, initialTranscript } from "./transcript.js";

function readJson(id, fallback) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : fallback;
}

// The transcript folding, reachable from the console and from benchmarks (bench/ui_run.py).
const transcript = { applyEvent, foldEvents, initialTranscript };
window.roundtable = { ...window.roundtable, transcript };

const root = document.getElementById("run-root");
if (root) {
  const data = root.dataset;
  const config = {
    runId: data.runId,
    teamName: data.teamName,
    task: data.task,
    username: data.username || "",
    socketPath: data.socketPath,
    eventsUrl: data.eventsUrl,
    eventCount: Number(data.eventCount) || 0,
    inputUrl: data.inputUrl,
    stopUrl: data.stopUrl,
    interjectUrl: data.interjectUrl,
    continueUrl: data.continueUrl,
    forkUrl: data.forkUrl,
    teamUrl: data.teamUrl,
    historyUrl: data.historyUrl,
    canSteer: data.canSteer === "true",
    humanNames: readJson("run-human-names", []),
    agents: readJson("run-agents", []).map((agent) => ({
      name: String(agent.name),
      isHuman: Boolean(agent.is_human),
    })),
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
