// The header bell: its unread count follows `notifications.unread` frames from the
// directory socket (/ws/directory/), which every page opens for a signed-in user.
// A go-live arriving while the page is open also shows a short toast linking to the room.
// Frames: docs/protocol.md.

import { RoomSocket } from "../room/socket.js";

const TOAST_MS = 8000;

function showCount(bell, count) {
  const badge = bell.querySelector("[data-bell-count]");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  bell.setAttribute("aria-label", `Notifications, ${count} unread`);
}

function toast(latest) {
  const box = document.createElement("a");
  box.className = "bell-toast";
  box.href = latest.url;
  box.setAttribute("role", "status");
  box.textContent = `${latest.broadcaster} went live: ${latest.title}`;
  document.body.append(box);
  setTimeout(() => box.remove(), TOAST_MS);
}

const bell = document.querySelector("[data-bell]");
if (bell) {
  new RoomSocket(bell.dataset.socketPath).on("notifications.unread", (frame) => {
    showCount(bell, frame.unread);
    if (frame.latest && frame.latest.kind === "go_live") toast(frame.latest);
  });
}
