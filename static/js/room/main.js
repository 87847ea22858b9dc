// The room page: one socket shared by every feature on the page.
import { mountAudience } from "./audience.js";
import { mountChat } from "./chat.js";
import { mountGifts } from "./gifts.js";
import { mountHearts } from "./hearts.js";
import { mountReports } from "./reports.js";
import { mountPlayer } from "./player.js";
import { RoomSocket } from "./socket.js";

const config = JSON.parse(document.getElementById("room-config").textContent);
const root = document.querySelector(".room-layout");
const socket = new RoomSocket(config.socketPath);

mountChat(root, socket, config);
mountAudience(root, socket);
mountHearts(root, socket, config);
mountGifts(root, socket, config);
mountReports(root, config);
mountPlayer(root, config);

function applyStatus(event) {
  if (event.status === root.dataset.status && event.stream === config.stream) return;
  config.stream = event.stream;
  root.dataset.status = event.status;
  document.dispatchEvent(new CustomEvent("room:status", { detail: event }));
}
socket.on("room.status", applyStatus);
// The page may have been rendered from a cache a moment old: the socket's greeting
// carries the status read at connect (and after every reconnect).
socket.on("hello", (event) => applyStatus({ status: event.status, stream: event.stream }));

if (config.moderationModule) {
  import(config.moderationModule).then((module) => module.mountModerationTools(root, socket, config));
}
export { socket, config };
