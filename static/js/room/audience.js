// Who is watching: the viewer count, the signed-in audience list, and join notices.

export function mountAudience(root, socket) {
  const count = root.querySelector("[data-viewer-count]");
  const list = root.querySelector("[data-audience-list]");
  const anonymous = root.querySelector("[data-anonymous-count]");
  const notices = root.querySelector("[data-chat-list]");

  socket.on("presence.count", (event) => {
    count.textContent = event.viewers.toLocaleString();
    count.dataset.viewers = event.viewers;
    count.dataset.loggedIn = event.logged_in;
  });
  socket.on("presence.audience", (event) => {
    list.replaceChildren(
      ...event.users.map((user) => {
        const item = document.createElement("li");
        item.textContent = user.name;
        if (user.badges && user.badges.length) item.className = `role-${user.role}`;
        return item;
      }),
    );
    anonymous.textContent = event.anonymous ? `and ${event.anonymous.toLocaleString()} watching anonymously` : "";
  });
  const notice = (text) => {
    const item = document.createElement("li");
    item.className = "chat-notice";
    item.textContent = text;
    notices.append(item);
  };
  socket.on("presence.join", (event) => notice(`${event.user.name} joined`));
}
