// Any page's `<button data-share-url="/api/teams/3/shares" data-share-name="…">` opens the
// share dialog for that object (the team list's cards use it).
import { openShareDialog } from "./open.jsx";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-share-url]");
  if (!button) return;
  event.preventDefault();
  openShareDialog({
    sharesUrl: button.dataset.shareUrl,
    name: button.dataset.shareName || "this",
    returnTo: button,
  });
});
