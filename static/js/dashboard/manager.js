// The stream manager: one monitor socket (not counted as a viewer) for its live panel.
import { RoomSocket } from "../room/socket.js";
import { mountHealth } from "./health.js";

const config = JSON.parse(document.getElementById("manager-config").textContent);
mountHealth(new RoomSocket(config.socketPath));
