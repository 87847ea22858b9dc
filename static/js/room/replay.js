// The replay page: the room's player, playing an ended stream's recording.
import { mountPlayer } from "./player.js";

const config = JSON.parse(document.getElementById("player-config").textContent);
const root = document.querySelector("[data-status]");
mountPlayer(root, config);
