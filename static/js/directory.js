// The directory's live cards, kept current: the directory socket (/ws/directory/) says
// when a room goes live or offline, and the page refetches the grid of live cards
// (the directory view with ?fragment=live) and swaps it in. Frames: docs/protocol.md.

import { RoomSocket } from "./room/socket.js";

const REFRESH_DEBOUNCE_MS = 1000;
// Spread the refetches of every open directory page over a second, so that a room going
// live does not send them all to the database at once while the cache is being refilled.
const REFRESH_JITTER_MS = 1000;
// Viewer counts change without a status change: refresh them now and then while visible.
const COUNTS_REFRESH_MS = 60000;

class LiveGrid {
  constructor(container) {
    this.container = container;
    this.fragmentUrl = container.dataset.fragmentUrl;
    this.timer = null;
    this.fetching = false;
    this.again = false;
  }

  // Debounced: a burst of status changes (a big streamer's raid) costs one refetch.
  refreshSoon() {
    if (this.timer) return;
    const delay = REFRESH_DEBOUNCE_MS + Math.random() * REFRESH_JITTER_MS;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh();
    }, delay);
  }

  async refresh() {
    if (this.fetching) {
      this.again = true;
      return;
    }
    this.fetching = true;
    try {
      const response = await fetch(this.fragmentUrl, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.ok) this.container.innerHTML = await response.text();
    } catch {
      // Offline for a moment: the next status change or reconnect refreshes again.
    } finally {
      this.fetching = false;
      if (this.again) {
        this.again = false;
        this.refreshSoon();
      }
    }
  }
}

const container = document.getElementById("live-rooms");
if (container) {
  const grid = new LiveGrid(container);
  // The room page's reconnecting socket (backoff with jitter); this one only listens.
  let opened = false;
  new RoomSocket(container.dataset.socketPath)
    .on("room.status", () => grid.refreshSoon())
    .on("connection", ({ state }) => {
      if (state !== "open") return;
      if (opened) grid.refreshSoon(); // changes made while we were away were missed
      opened = true;
    });
  setInterval(() => {
    if (document.visibilityState === "visible") grid.refreshSoon();
  }, COUNTS_REFRESH_MS);
}
