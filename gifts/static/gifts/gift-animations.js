/**
 * Gift animations on the player: `showGift(event, container)`.
 *
 * `event` is a `gift` frame (gifts/events.py); `container` is the element the
 * animation lives in (the player). Small and medium gifts slide into a corner
 * as a toast; large ones take over the whole container. Every send of a combo
 * carries the same combo id, so its toast (or the running takeover) only
 * bumps its "x12" counter instead of stacking a new one. Takeovers queue, so
 * two never overlap. Styles are in gifts.css; prefers-reduced-motion turns
 * the movement off but keeps the toasts.
 */

const CORNER_MS = { small: 3000, medium: 5000 };
const TAKEOVER_MS = 4000;
const MAX_TOASTS = 4;

const layers = new WeakMap(); // container -> its state: {layer, toasts: Map, takeover, queue}

function stateOf(container) {
  let state = layers.get(container);
  if (!state || !state.layer.isConnected) {
    const layer = document.createElement("div");
    layer.className = "gift-layer";
    layer.setAttribute("aria-live", "polite");
    const corner = document.createElement("div");
    corner.className = "gift-corner";
    layer.append(corner);
    container.append(layer);
    state = { layer, corner, toasts: new Map(), takeover: null, queue: [] };
    layers.set(container, state);
  }
  return state;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function comboText(event) {
  return `x${event.combo?.total ?? event.quantity ?? 1}`;
}

function bump(counter, event) {
  counter.textContent = comboText(event);
  counter.classList.remove("gift-combo-bump");
  void counter.offsetWidth; // restart the CSS animation
  counter.classList.add("gift-combo-bump");
}

function giftCard(event, className) {
  const card = el("div", className);
  card.dataset.combo = event.combo?.id ?? event.id;
  const image = el("img", "gift-image");
  image.src = event.gift.image;
  image.alt = "";
  const text = el("div", "gift-text");
  text.append(el("strong", "gift-sender", event.sender?.name ?? "Someone"));
  text.append(el("span", "gift-name", `sent ${event.gift.name}`));
  const counter = el("span", "gift-combo", comboText(event));
  card.append(image, text, counter);
  return { card, counter };
}

function showInCorner(event, state) {
  const tier = event.gift.tier === "medium" ? "medium" : "small";
  const key = event.combo?.id ?? event.id;
  let toast = state.toasts.get(key);
  if (toast) {
    bump(toast.counter, event);
    clearTimeout(toast.timer);
  } else {
    const { card, counter } = giftCard(
      event,
      `gift-toast gift-tier-${tier} gift-anim-${event.gift.animation}`,
    );
    state.corner.prepend(card);
    toast = { card, counter, timer: 0 };
    state.toasts.set(key, toast);
    while (state.toasts.size > MAX_TOASTS) {
      const [oldest, old] = state.toasts.entries().next().value;
      removeToast(state, oldest, old);
    }
  }
  toast.timer = setTimeout(() => removeToast(state, key, toast), CORNER_MS[tier]);
  return toast.card;
}

function removeToast(state, key, toast) {
  clearTimeout(toast.timer);
  state.toasts.delete(key);
  toast.card.classList.add("gift-leaving");
  setTimeout(() => toast.card.remove(), 300);
}

function showTakeover(event, state) {
  const key = event.combo?.id ?? event.id;
  if (state.takeover && state.takeover.key === key) {
    bump(state.takeover.counter, event);
    clearTimeout(state.takeover.timer);
    state.takeover.timer = setTimeout(() => endTakeover(state), TAKEOVER_MS);
    return state.takeover.card;
  }
  const queued = state.queue.find((item) => (item.combo?.id ?? item.id) === key);
  if (queued) {
    Object.assign(queued, { combo: event.combo, quantity: event.quantity });
    return null;
  }
  state.queue.push(event);
  if (!state.takeover) return startTakeover(state);
  return null;
}

function startTakeover(state) {
  const event = state.queue.shift();
  if (!event) return null;
  const key = event.combo?.id ?? event.id;
  const { card, counter } = giftCard(event, `gift-takeover gift-anim-${event.gift.animation}`);
  card.prepend(el("div", "gift-takeover-glow"));
  state.layer.append(card);
  state.takeover = { key, card, counter, timer: setTimeout(() => endTakeover(state), TAKEOVER_MS) };
  return card;
}

function endTakeover(state) {
  const current = state.takeover;
  if (!current) return;
  state.takeover = null;
  current.card.classList.add("gift-leaving");
  setTimeout(() => current.card.remove(), 400);
  startTakeover(state);
}

/**
 * Animate a `gift` event inside `container`. Returns the element showing it
 * (null when a takeover is queued behind another).
 */
export function showGift(event, container) {
  if (!event || event.type !== "gift" || !event.gift || !container) return null;
  const state = stateOf(container);
  if (event.gift.tier === "large") return showTakeover(event, state);
  return showInCorner(event, state);
}
