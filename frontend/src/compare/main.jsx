import { createRoot } from "react-dom/client";
import { Compare } from "./Compare.jsx";

const root = document.getElementById("compare-root");
if (root) {
  const runs = JSON.parse(document.getElementById("compare-runs").textContent);
  createRoot(root).render(<Compare runs={runs} />);
}
