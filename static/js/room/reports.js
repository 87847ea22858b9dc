// Reporting a message or the room: a small dialog that posts to the moderation API.

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export function mountReports(root, config) {
  const dialog = document.querySelector("[data-report-dialog]");
  if (!dialog || !config.user) return;
  const form = dialog.querySelector("form");
  const status = dialog.querySelector("[data-report-status]");
  let target = null;

  function open(kind, id, label) {
    target = { kind, target: String(id), room: config.slug };
    dialog.querySelector("[data-report-what]").textContent = label;
    status.textContent = "";
    form.reset();
    dialog.showModal();
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-report]");
    if (!button) return;
    if (button.dataset.report === "room") open("room", config.slug, "this room");
    else open("message", button.closest("[data-message-id]").dataset.messageId, "this message");
  });
  dialog.querySelector("[data-report-cancel]").addEventListener("click", () => dialog.close());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { ...target, reason: form.reason.value, details: form.details.value };
    const response = await fetch("/api/moderation/reports/", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      status.textContent = "Thanks. Our moderators will look at it.";
      setTimeout(() => dialog.close(), 1200);
    } else {
      status.textContent = answer.message || "The report could not be sent. Try again.";
    }
  });
}
