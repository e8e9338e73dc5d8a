import "@xyflow/react/dist/style.css";
import "./builder.css";
import { createRoot } from "react-dom/client";
import { Builder } from "./Builder.jsx";

const root = document.getElementById("builder-root");
if (root) {
  const data = root.dataset;
  const urls = {
    team: data.teamUrl,
    spec: data.specUrl,
    draft: data.draftUrl,
    catalog: data.catalogUrl,
    validate: data.validateUrl,
    validateSpec: data.validateSpecUrl,
    agents: data.agentsUrl,
    duplicate: data.duplicateUrl,
    exportRoundtable: data.exportUrl,
    exportAutogen: data.exportAutogenUrl,
    models: data.modelsUrl,
    teams: data.teamsUrl,
    runs: data.runsUrl,
    runPageBase: data.runPageBase,
    builderBase: data.builderBase,
    teamList: data.teamListUrl,
    shares: data.sharesUrl,
  };
  createRoot(root).render(<Builder urls={urls} />);
}
