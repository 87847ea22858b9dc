// The heart button: taps are summed and sent a few times a second; the room's
// total comes back from the server, and hearts float up over the player.

const SEND_EVERY_MS = 300;
const MAX_FLOATING = 40;

export function mountHearts(root, socket, config) {
  const button = root.querySelector("[data-heart-button]");
  const total = root.querySelector("[data-likes-total]");
  const stage = root.querySelector("[data-hearts-stage]");
  let taps = 0;

  if (button) {
    button.addEventListener("click", () => {
      if (!config.user) {
        location.href = config.loginUrl;
        return;
      }
      taps += 1;
      float(stage);
    });
    setInterval(() => {
      if (taps) {
        socket.send({ type: "like", count: Math.min(taps, 50) });
        taps = 0;
      }
    }, SEND_EVERY_MS);
  }

  socket.on("likes", (event) => {
    total.textContent = event.total.toLocaleString();
    for (let i = 0; i < Math.min(event.delta, 5); i += 1) setTimeout(() => float(stage), i * 80);
  });
}

function float(stage) {
  if (!stage || stage.childElementCount > MAX_FLOATING) return;
  const heart = document.createElement("span");
  heart.className = "floating-heart";
  heart.textContent = "♥";
  heart.style.setProperty("--drift", `${Math.round(Math.random() * 60 - 30)}px`);
  heart.style.setProperty("--hue", `${Math.round(330 + Math.random() * 40)}`);
  heart.addEventListener("animationend", () => heart.remove());
  stage.append(heart);
}
