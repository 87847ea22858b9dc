// The header bell: its unread count follows `notifications.unread` frames from the
// directory socket (/ws/directory/), which every page opens for a signed-in user.
// A go-live arriving while the page is open also shows a short toast linking to the room,
// and so does the outcome of the user's own held chat message (`moderation.held`).
// Frames: docs/protocol.md.

import { RoomSocket } from "../room/socket.js";

const TOAST_MS = 8000;

function showCount(bell, count) {
  const badge = bell.querySelector("[data-bell-count]");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  bell.setAttribute("aria-label", `Notifications, ${count} unread`);
}

const HELD_OUTCOMES = {
  approved: "A moderator approved your held message: it is in the chat now.",
  removed: "A moderator removed your held message.",
  expired: "Nobody reviewed your held message in time, so it was dropped.",
};

function toast(url, text) {
  const box = document.createElement("a");
  box.className = "bell-toast";
  box.href = url;
  box.setAttribute("role", "status");
  box.textContent = text;
  document.body.append(box);
  setTimeout(() => box.remove(), TOAST_MS);
}

const bell = document.querySelector("[data-bell]");
if (bell) {
  new RoomSocket(bell.dataset.socketPath)
    .on("notifications.unread", (frame) => {
      showCount(bell, frame.unread);
      const latest = frame.latest;
      if (latest && latest.kind === "go_live") {
        toast(latest.url, `${latest.broadcaster} went live: ${latest.title}`);
      }
    })
    .on("moderation.held", (frame) => {
      const text = HELD_OUTCOMES[frame.outcome];
      if (text) toast(`/rooms/${encodeURIComponent(frame.room)}/`, text);
    });
}
