// The gift tray, gift animations and the gifters' leaderboards of the room page.
// Sending goes over the room socket (`gift.send`); every send carries a fresh
// idempotency key, and a retry of the same tap reuses it, so it charges once.

export async function mountGifts(root, socket, config) {
  const catalog = JSON.parse(document.getElementById("gift-catalog").textContent);
  const boards = JSON.parse(document.getElementById("gift-leaderboards").textContent);
  const { showGift } = await import(config.giftAnimations);
  const player = root.querySelector("[data-player]");
  const tray = root.querySelector("[data-gift-tray]");
  const toggle = root.querySelector("[data-gift-toggle]");
  const grid = root.querySelector("[data-gift-grid]");
  const quantity = root.querySelector("[data-gift-quantity]");
  const status = root.querySelector("[data-gift-status]");
  const balance = root.querySelector("[data-coin-balance]");
  const inFlight = new Map(); // idempotency key -> {gift, quantity}, until answered

  const say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("error", isError);
  };
  if (balance && config.balance !== null) balance.textContent = config.balance.toLocaleString();

  toggle.addEventListener("click", () => {
    tray.hidden = !tray.hidden;
    toggle.setAttribute("aria-expanded", String(!tray.hidden));
  });
  for (const amount of catalog.quantities) {
    const option = document.createElement("option");
    option.value = amount;
    option.textContent = `x${amount}`;
    quantity.append(option);
  }
  for (const gift of catalog.gifts) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `gift-choice tier-${gift.tier}`;
    button.dataset.giftId = gift.id;
    const image = document.createElement("img");
    image.src = gift.image;
    image.alt = "";
    const name = document.createElement("span");
    name.textContent = gift.name;
    const price = document.createElement("small");
    price.textContent = `${gift.price.toLocaleString()} coins`;
    button.append(image, name, price);
    button.addEventListener("click", () => send(gift));
    grid.append(button);
  }

  function send(gift) {
    if (!config.user) {
      location.href = config.loginUrl;
      return;
    }
    const key = crypto.randomUUID ? crypto.randomUUID() : `k${Date.now()}${Math.random()}`.replace(".", "");
    const send = { gift: gift.id, quantity: Number(quantity.value) };
    inFlight.set(key, send);
    socket.send({ type: "gift.send", ...send, idempotency_key: key });
    say(`Sending ${gift.name}…`);
  }

  socket.on("gift.sent", (receipt) => {
    inFlight.delete(receipt.idempotency_key);
    if (balance) balance.textContent = receipt.balance.toLocaleString();
    say(`Sent ${receipt.gift.name} x${receipt.quantity}.`);
  });
  socket.on("error", (error) => {
    if (error.for !== "gift.send") return;
    inFlight.delete(error.idempotency_key);
    say(error.message, true);
    if (error.balance !== undefined && balance) balance.textContent = error.balance.toLocaleString();
  });
  // A socket that dropped mid-send sends the same keys again: charged once, answered again.
  socket.on("connection", (event) => {
    if (event.state !== "open") return;
    for (const [key, send] of inFlight) socket.send({ type: "gift.send", ...send, idempotency_key: key });
  });

  // Leaderboard frames are throttled (one per room and interval); between them the gift
  // frames carry the sender's new totals, which keep the shown boards exact.
  const shown = new Map(); // board kind -> the page of it on screen
  const show = (board) => {
    shown.set(board.board, board);
    renderBoard(root, board);
  };
  socket.on("gift", (event) => {
    showGift(event, player);
    for (const [kind, score] of Object.entries(event.totals || {})) {
      show(withTotal(shown.get(kind), kind, event, score));
    }
  });
  socket.on("leaderboard", show);
  for (const board of Object.values(boards)) show(board);
}

// `board` with the gift's sender at `score`, re-ranked; a board that shows only the top
// (fewer entries than members) keeps its length.
function withTotal(board, kind, event, score) {
  const id = kind === "stream" ? String(event.stream) : board?.id;
  if (!board || board.id !== id) board = { board: kind, id, total: 0, entries: [] };
  const username = event.sender.username;
  const previous = board.entries.find((entry) => entry.user.username === username);
  const others = board.entries.filter((entry) => entry !== previous);
  const entry = { user: event.sender, score: Math.max(score, previous?.score ?? 0) };
  const size = board.total > board.entries.length ? board.entries.length : Infinity;
  const entries = [...others, entry]
    .sort((a, b) => b.score - a.score)
    .slice(0, size)
    .map((item, index) => ({ ...item, rank: index + 1 }));
  return { ...board, total: board.total + (previous ? 0 : 1), entries };
}

function renderBoard(root, board) {
  const list = root.querySelector(`[data-board="${board.board}"]`);
  if (!list) return;
  if (!board.entries.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "No gifts yet. Be the first!";
    list.replaceChildren(empty);
    return;
  }
  list.replaceChildren(
    ...board.entries.map((entry) => {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${entry.rank}. ${entry.user.name}`;
      const score = document.createElement("strong");
      score.textContent = entry.score.toLocaleString();
      item.append(name, score);
      return item;
    }),
  );
}
