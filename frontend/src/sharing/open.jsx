import { createRoot } from "react-dom/client";
import { ShareDialog } from "./ShareDialog.jsx";

/**
 * Opens the share dialog for one object from plain code (a template's button, say) and
 * hands the focus back to `returnTo` when it closes.
 */
export function openShareDialog({ sharesUrl, name, returnTo }) {
  const host = document.createElement("div");
  document.body.append(host);
  const root = createRoot(host);
  const close = () => {
    root.unmount();
    host.remove();
    returnTo?.focus();
  };
  root.render(<ShareDialog sharesUrl={sharesUrl} name={name} onClose={close} />);
}
