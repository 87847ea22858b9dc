// The room socket: one WebSocket per page, reconnecting with backoff and resuming
// from the last message seen, so a flaky phone connection loses nothing.
// Frames are documented in docs/protocol.md.

const MAX_BACKOFF_MS = 30000;

export class RoomSocket {
  constructor(path) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.handlers = new Map();
    this.outbox = [];
    this.lastMessageId = null;
    this.attempt = 0;
    this.closedByServer = false;
    this.connect();
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    return this;
  }

  emit(type, payload) {
    for (const handler of this.handlers.get(type) || []) handler(payload);
  }

  send(frame) {
    const text = JSON.stringify(frame);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.outbox.push(text);
  }

  connect() {
    this.emit("connection", { state: this.attempt ? "reconnecting" : "connecting" });
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.emit("connection", { state: "open" });
      if (this.lastMessageId) ws.send(JSON.stringify({ type: "resume", last_id: this.lastMessageId }));
      for (const text of this.outbox.splice(0)) ws.send(text);
    });
    ws.addEventListener("message", (event) => this.dispatch(event.data));
    ws.addEventListener("close", (event) => this.closed(event));
  }

  dispatch(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const events = frame.type === "batch" ? frame.events : [frame];
    for (const event of events) {
      if (event.type === "chat.message") this.lastMessageId = event.id;
      if (event.type === "chat.history" && event.messages.length) {
        this.lastMessageId = event.messages[event.messages.length - 1].id;
      }
      this.emit(event.type, event);
    }
  }

  closed(event) {
    // 4403: banned; 4404: no such room. Coming back would not help.
    if (event.code === 4403 || event.code === 4404) {
      this.emit("connection", { state: "closed", code: event.code });
      return;
    }
    this.attempt += 1;
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.attempt, 6));
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    this.emit("connection", { state: "reconnecting", inMs: delay });
    setTimeout(() => this.connect(), delay);
  }
}
