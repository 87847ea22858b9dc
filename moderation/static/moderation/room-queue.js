/**
 * The room's review queue beside its chat, for its moderators and owner: held and
 * flagged messages and reports of this room, each with Approve, Remove, 10 min and Ban.
 *
 * The list comes from GET /api/rooms/<slug>/review-queue/; a decision is a POST to
 * /api/rooms/<slug>/review-queue/<id>/ (the same services, audit log and socket
 * enforcement as the admin's queue). Whenever the queue changes, the directory socket
 * brings `moderation.queue` {room} and the list is fetched again (docs/protocol.md).
 */

import { RoomSocket } from "../js/room/socket.js";

const REFRESH_DEBOUNCE_MS = 300;
const CONFIRM_MS = 3000;
const DECISIONS = [
  { decision: "approve", label: "Approve", title: "Nothing wrong: show it" },
  { decision: "remove", label: "Remove", title: "Remove the message" },
  { decision: "timeout", label: "10 min", title: "Time out the author for 10 minutes", minutes: 10 },
  { decision: "ban", label: "Ban", title: "Ban the author from this room", confirm: "Ban?" },
];

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function describe(item) {
  if (item.text !== null) return item.text;
  if (item.kind === "user") return `User ${item.user_name ?? ""}`;
  return "The room itself";
}

function row(item) {
  const li = document.createElement("li");
  li.className = "mod-queue-item";
  li.dataset.itemId = item.id;
  const what = document.createElement("p");
  const who = document.createElement("strong");
  who.textContent = item.user_name ?? "";
  const text = document.createElement("span");
  text.className = "mod-queue-text";
  text.textContent = describe(item);
  what.append(who, " ", text);
  const why = document.createElement("p");
  why.className = "muted";
  const reports = item.report_count ? ` · ${item.report_count} report(s)` : "";
  why.textContent = `${item.source} · ${item.reason}${reports}`;
  const buttons = document.createElement("p");
  buttons.className = "mod-queue-actions";
  for (const choice of DECISIONS) {
    if (item.kind !== "message" && (choice.decision === "remove")) continue;
    if (!item.user_id && (choice.decision === "timeout" || choice.decision === "ban")) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = choice.label;
    button.title = choice.title;
    button.dataset.decision = choice.decision;
    if (choice.minutes) button.dataset.minutes = choice.minutes;
    if (choice.confirm) button.dataset.confirm = choice.confirm;
    buttons.append(button);
  }
  li.append(what, why, buttons);
  return li;
}

class ReviewQueue {
  constructor(root) {
    this.root = root;
    this.url = root.dataset.queueUrl;
    this.list = root.querySelector("[data-mod-queue-list]");
    this.count = root.querySelector("[data-mod-queue-count]");
    this.empty = root.querySelector("[data-mod-queue-empty]");
    this.status = root.querySelector("[data-mod-queue-status]");
    this.timer = null;
    this.list.addEventListener("click", (event) => this.clicked(event));
  }

  refreshSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  async refresh() {
    try {
      const response = await fetch(this.url, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      this.show(await response.json());
    } catch {
      // Offline for a moment: the socket's reconnect refreshes again.
    }
  }

  show(items) {
    this.list.replaceChildren(...items.map(row));
    this.count.textContent = String(items.length);
    this.empty.hidden = items.length > 0;
  }

  async clicked(event) {
    const button = event.target.closest("button[data-decision]");
    const item = button?.closest("[data-item-id]");
    if (!button || !item) return;
    if (button.dataset.confirm && !button.dataset.armed) {
      button.dataset.label = button.textContent;
      button.dataset.armed = "1";
      button.textContent = button.dataset.confirm;
      setTimeout(() => {
        delete button.dataset.armed;
        button.textContent = button.dataset.label;
      }, CONFIRM_MS);
      return;
    }
    const body = { decision: button.dataset.decision };
    if (button.dataset.minutes) body.minutes = Number(button.dataset.minutes);
    const response = await fetch(`${this.url}${item.dataset.itemId}/`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    if (response.ok) {
      item.remove();
      this.status.textContent = "Done.";
    } else {
      const error = await response.json().catch(() => ({}));
      this.status.textContent = error.message || "That did not work; try again.";
    }
    this.refreshSoon();
  }
}

const root = document.querySelector("[data-mod-queue]");
if (root) {
  const queue = new ReviewQueue(root);
  new RoomSocket(root.dataset.socketPath)
    .on("moderation.queue", (frame) => {
      if (frame.room === root.dataset.room) queue.refreshSoon();
    })
    .on("connection", ({ state }) => {
      if (state === "open") queue.refreshSoon(); // first load, and what a reconnect missed
    });
}
