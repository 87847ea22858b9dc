/**
 * The catalog page's "Preview" buttons: play a gift's animation on the stage,
 * the way a room shows it. Pressing the same gift again within a few seconds
 * continues its combo, as a real sender's taps would.
 */
import { showGift } from "./gift-animations.js";

const COMBO_WINDOW_MS = 5000;
const catalog = JSON.parse(document.getElementById("gift-catalog").textContent);
const stage = document.querySelector("[data-gift-stage]");
const bySlug = new Map(catalog.gifts.map((gift) => [gift.slug, gift]));
let combo = { slug: null, id: 0, count: 0, at: 0 };

document.addEventListener("click", (click) => {
  const button = click.target.closest("[data-preview-gift]");
  if (!button) return;
  const gift = bySlug.get(button.dataset.previewGift);
  if (!gift) return;
  const now = Date.now();
  if (combo.slug !== gift.slug || now - combo.at > COMBO_WINDOW_MS) {
    combo = { slug: gift.slug, id: combo.id + 1, count: 0, at: now };
  }
  combo.count += 1;
  combo.at = now;
  stage.querySelector("p.muted")?.remove();
  showGift(
    {
      type: "gift",
      id: `preview-${now}`,
      sender: { name: "You" },
      gift,
      quantity: 1,
      combo: { id: `preview-${combo.id}`, count: combo.count, total: combo.count },
    },
    stage,
  );
});
