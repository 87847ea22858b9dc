// The directory's live cards, kept current: the directory socket (/ws/directory/) says
// when a room goes live or offline, and the page refetches the grid of live cards
// (the directory view with ?fragment=live) and swaps it in. Frames: docs/protocol.md.

const MAX_BACKOFF_MS = 30000;
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

class DirectorySocket {
  constructor(path, grid) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.grid = grid;
    this.attempt = 0;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(this.url);
    ws.addEventListener("open", () => {
      // Changes made while we were away were missed: catch up once.
      if (this.attempt > 0) this.grid.refreshSoon();
      this.attempt = 0;
    });
    ws.addEventListener("message", (event) => this.dispatch(event.data));
    ws.addEventListener("close", () => this.closed());
  }

  dispatch(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "room.status") this.grid.refreshSoon();
  }

  closed() {
    this.attempt += 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.attempt, 6));
    setTimeout(() => this.connect(), backoff / 2 + Math.random() * (backoff / 2));
  }
}

const container = document.getElementById("live-rooms");
if (container) {
  const grid = new LiveGrid(container);
  new DirectorySocket(container.dataset.socketPath, grid);
  setInterval(() => {
    if (document.visibilityState === "visible") grid.refreshSoon();
  }, COUNTS_REFRESH_MS);
}
