// The chat panel: live messages that follow the conversation and pause when the
// viewer scrolls up, a "new messages" button, the send box, and the Top tab.
// Text always goes in with textContent: a message is never HTML.

const MAX_MESSAGES = 300;
const NEAR_BOTTOM_PX = 40;
const RESEND_WITHIN_MS = 60000;

export function mountChat(root, socket, config) {
  const list = root.querySelector("[data-chat-list]");
  const form = root.querySelector("[data-chat-form]");
  const input = form ? form.querySelector("input[name=text]") : null;
  const status = root.querySelector("[data-chat-status]");
  const newButton = root.querySelector("[data-new-messages]");
  const topList = root.querySelector("[data-top-list]");
  const pending = new Map();
  let following = true;
  let unseen = 0;

  const nearBottom = () => list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  const scrollDown = () => {
    list.scrollTop = list.scrollHeight;
    unseen = 0;
    newButton.hidden = true;
  };

  list.addEventListener("scroll", () => {
    following = nearBottom();
    if (following) scrollDown();
  });
  newButton.addEventListener("click", () => {
    following = true;
    scrollDown();
  });

  function messageElement(message) {
    const item = document.createElement("li");
    item.className = "chat-message";
    item.dataset.messageId = message.id;
    item.dataset.userId = message.user.id;
    const name = document.createElement("span");
    name.className = `chat-name role-${message.user.role}`;
    name.textContent = message.user.name;
    for (const badge of message.user.badges || []) {
      const mark = document.createElement("span");
      mark.className = `badge badge-${badge}`;
      mark.textContent = badge === "owner" ? "host" : badge === "moderator" ? "mod" : badge;
      name.prepend(mark);
    }
    const text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = message.text;
    item.append(name, text);
    if (config.user) {
      const like = document.createElement("button");
      like.type = "button";
      like.className = "chat-like";
      like.title = "Like this message";
      like.textContent = "♥";
      like.addEventListener("click", () => socket.send({ type: "chat.like", id: message.id }));
      item.append(like);
      if (message.user.id !== config.user.id) {
        const report = document.createElement("button");
        report.type = "button";
        report.className = "chat-report";
        report.dataset.report = "message";
        report.title = "Report this message";
        report.textContent = "⚑";
        item.append(report);
      }
    }
    return item;
  }

  function append(message) {
    if (list.querySelector(`[data-message-id="${message.id}"]`)) return;
    const wasFollowing = following;
    list.append(messageElement(message));
    while (list.children.length > MAX_MESSAGES) list.firstElementChild.remove();
    if (wasFollowing) scrollDown();
    else {
      unseen += 1;
      newButton.textContent = `${unseen} new message${unseen > 1 ? "s" : ""} ↓`;
      newButton.hidden = false;
    }
  }

  socket.on("chat.history", (event) => event.messages.forEach(append));
  socket.on("chat.message", (message) => {
    if (message.nonce && pending.has(message.nonce)) {
      pending.delete(message.nonce);
    }
    append(message);
  });
  socket.on("chat.delete", (event) => {
    const item = list.querySelector(`[data-message-id="${event.id}"]`);
    if (item) item.remove();
    const top = topList && topList.querySelector(`[data-message-id="${event.id}"]`);
    if (top) top.remove();
  });
  socket.on("chat.liked", (event) => {
    const item = list.querySelector(`[data-message-id="${event.id}"] .chat-like`);
    if (item) item.textContent = `♥ ${event.likes}`;
  });
  socket.on("chat.slow_mode", (event) => {
    showStatus(event.seconds ? `Slow mode: one message every ${event.seconds} s.` : "Slow mode is off.");
  });
  socket.on("error", (event) => {
    if (event.for) return; // answers to other features (gifts) are shown by them
    if (event.code === "message_pending" && pending.has(event.nonce)) {
      // Its first send is not stored yet (or its process died): send it again shortly.
      const sent = pending.get(event.nonce);
      setTimeout(() => {
        if (pending.has(event.nonce)) socket.send({ type: "chat.send", text: sent.text, nonce: event.nonce });
      }, (event.retry_after || 1) * 1000);
      return;
    }
    if (event.nonce) pending.delete(event.nonce);
    // A held message is not a failure: it waits for a moderator.
    showStatus(event.message, event.code !== "message_held");
  });
  socket.on("connection", (event) => {
    if (event.state === "open") {
      showStatus("");
      // Sent before the drop but never acknowledged: send again. The server answers a
      // nonce it has seen with the original message, so nothing is ever doubled.
      const now = Date.now();
      for (const [nonce, sent] of pending) {
        if (now - sent.at > RESEND_WITHIN_MS) pending.delete(nonce);
        else socket.send({ type: "chat.send", text: sent.text, nonce });
      }
    }
    else if (event.state === "reconnecting") showStatus("Reconnecting…");
    else if (event.state === "closed") showStatus(event.code === 4403 ? "You were removed from this room." : "Chat closed.", true);
  });

  function showStatus(text, isError = false) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  if (form && input) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      const nonce = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
      pending.set(nonce, { text, at: Date.now() });
      socket.send({ type: "chat.send", text, nonce });
      input.value = "";
      following = true;
    });
  }

  mountTabs(root, config, topList);
}

function mountTabs(root, config, topList) {
  const tabs = root.querySelectorAll("[data-tab]");
  for (const tab of tabs) {
    tab.addEventListener("click", async () => {
      for (const other of tabs) other.setAttribute("aria-selected", String(other === tab));
      for (const panel of root.querySelectorAll("[data-panel]")) {
        panel.hidden = panel.dataset.panel !== tab.dataset.tab;
      }
      if (tab.dataset.tab === "top") await loadTop(config, topList);
    });
  }
}

async function loadTop(config, topList) {
  topList.replaceChildren();
  if (!config.stream) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "Top comments appear while the room is live.";
    topList.append(empty);
    return;
  }
  const response = await fetch(`/api/streams/${config.stream}/top-messages/?limit=20`);
  if (!response.ok) return;
  const body = await response.json();
  if (!body.results.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "No liked comments yet. Tap ♥ on a message you like.";
    topList.append(empty);
  }
  for (const message of body.results) {
    const item = document.createElement("li");
    item.className = "chat-message";
    item.dataset.messageId = message.id;
    const name = document.createElement("span");
    name.className = "chat-name";
    name.textContent = message.user.name;
    const text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = message.text;
    const likes = document.createElement("span");
    likes.className = "chat-like";
    likes.textContent = `♥ ${message.like_count}`;
    item.append(name, text, likes);
    topList.append(item);
  }
}
