// The live panel of the stream manager and the go-live page: stream health and status,
// pushed over the room's socket (`stream.health` goes only to the room's owner and staff;
// docs/protocol.md). Each page opens one monitor socket and passes it in.

const WARNINGS = {
  keyframe_interval: "Keyframes are more than 2 s apart: set OBS “Keyframe Interval” to 2 s, or viewers see the stream late.",
  slow_transcoder: "The transcoder cannot keep up: lower the bitrate or resolution in OBS.",
};
const STATUS_LABELS = { live: "Live", offline: "Offline", ended: "Ended" };

let panel, list, empty, warnings, statusBadge;

function field(name, text) {
  panel.querySelector(`[data-health-field="${name}"]`).textContent = text;
}

function formatBitrate(bits) {
  return bits >= 1e6 ? `${(bits / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bits / 1e3)} kbit/s`;
}

function showHealth(health) {
  list.hidden = false;
  empty.hidden = true;
  field("input_bitrate", formatBitrate(health.input_bitrate || 0));
  field("fps", String(health.fps ?? ""));
  field("resolution", health.width ? `${health.width}×${health.height}` : "");
  field("codecs", `${health.video_codec || "?"} / ${health.audio_codec || "no audio"}`);
  field("keyframe_interval", health.keyframe_interval ? `${health.keyframe_interval} s` : "");
  field("speed", health.speed ? `${health.speed}×` : "");
  warnings.replaceChildren(...(health.warnings || []).map((name) => {
    const item = document.createElement("li");
    item.dataset.warning = name;
    item.textContent = WARNINGS[name] || name;
    return item;
  }));
}

function showStatus(event) {
  statusBadge.textContent = STATUS_LABELS[event.status] || event.status;
  statusBadge.className = `status status-${event.status}`;
  if (event.status !== "live") {
    list.hidden = true;
    warnings.replaceChildren();
    empty.hidden = false;
    empty.textContent = "Shown while you are live.";
  } else if (list.hidden) {
    empty.textContent = "Waiting for the first report from the transcoder…";
  }
}

export function mountHealth(socket) {
  panel = document.querySelector("[data-health-panel]");
  list = panel.querySelector("[data-health]");
  empty = panel.querySelector("[data-health-empty]");
  warnings = panel.querySelector("[data-health-warnings]");
  statusBadge = document.querySelector("[data-room-status]");
  socket
    .on("stream.health", showHealth)
    .on("room.status", showStatus)
    .on("hello", (event) => showStatus({ status: event.status }));
}
