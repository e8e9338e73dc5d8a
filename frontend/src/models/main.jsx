import { createRoot } from "react-dom/client";
import { ModelsPage } from "./ModelsPage.jsx";

const root = document.getElementById("models-root");
if (root) {
  createRoot(root).render(
    <ModelsPage
      modelsUrl={root.dataset.modelsUrl}
      credentialsUrl={root.dataset.credentialsUrl}
    />,
  );
}
