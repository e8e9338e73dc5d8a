import { createRoot } from "react-dom/client";
import { Sharing } from "./Sharing.jsx";
import { Tokens } from "./Tokens.jsx";

const root = document.getElementById("settings-root");
if (root) {
  const data = root.dataset;
  const urls = { teams: data.teamsUrl, models: data.modelsUrl, credentials: data.credentialsUrl };
  createRoot(root).render(
    <>
      <Tokens tokensUrl={data.tokensUrl} apiDocsUrl={data.apiDocsUrl} />
      <Sharing urls={urls} />
    </>,
  );
}
