// The room's video: hls.js (from npm) with a live badge, quality menu, live-edge,
// unmute and fullscreen buttons; an offline poster until the room goes live.
// With `config.replay` it plays a recording instead: no live badge, native seek bar.
// Live rooms play in hls.js's low-latency mode: it reads the playlists' parts,
// preload hints and blocking reloads, holds PART-HOLD-BACK (about 1 s) behind the
// live edge, and plays up to 1.5x faster to get back there after a stall or a
// broadcaster's reconnect instead of staying seconds behind.
import Hls from "../../vendor/hls.js/dist/hls.min.mjs";
import { watchRealtime } from "./realtime.js";

const RETRY_MS = 2000;
// "Go live" shows when this far behind the latency hls.js aims for.
const BEHIND_LIVE_SECONDS = 4;
const LIVE_CONFIG = {
  lowLatencyMode: true,
  maxLiveSyncPlaybackRate: 1.5,
  // No liveSync*/liveMaxLatency* settings: hls.js would then aim for them instead of the
  // playlist's PART-HOLD-BACK (and insists on both or neither).
  backBufferLength: 30,
  manifestLoadingMaxRetry: 2,
};

export function mountPlayer(root, config) {
  const player = root.querySelector("[data-player]");
  const poster = player.querySelector("[data-offline-poster]");
  const badge = player.querySelector("[data-live-badge]");
  const replay = Boolean(config.replay);
  const video = document.createElement("video");
  Object.assign(video, { muted: true, autoplay: true, playsInline: true, controls: replay });
  video.hidden = true;
  player.prepend(video);
  const controls = buildControls(player);
  let hls = null;
  let retry = null;
  let realtime = null;

  function show(live) {
    video.hidden = !live;
    poster.hidden = live;
    badge.hidden = !live || replay;
    controls.bar.hidden = !live;
  }

  function stopRealtime() {
    if (realtime) { realtime.stop(); realtime = null; }
    controls.realtime.textContent = "⚡ Real-time";
    controls.realtime.setAttribute("aria-pressed", "false");
  }

  function stop(message) {
    clearTimeout(retry);
    stopRealtime();
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
    poster.querySelector("p").textContent = message;
    show(false);
  }

  function start() {
    clearTimeout(retry);
    if (hls) hls.destroy();
    show(true);
    if (!Hls.isSupported()) {
      video.src = config.hlsUrl;  // Safari plays HLS natively
      video.play().catch(() => {});
      return;
    }
    hls = new Hls(replay ? {} : LIVE_CONFIG);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      controls.fillQualities(hls.levels);
      video.play().catch(() => {});
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else {
        // The stream dropped or has not written its first segment yet: try again.
        if (replay) { stop("This replay cannot be played right now."); return; }
        retry = setTimeout(() => { if (root.dataset.status === "live") start(); }, RETRY_MS);
      }
    });
    hls.loadSource(config.hlsUrl);
    hls.attachMedia(video);
  }

  function backToHls(reason) {
    stopRealtime();
    controls.realtime.title = `${reason} Back on the regular stream.`;
    if (root.dataset.status === "live") start();
  }

  controls.realtime.addEventListener("click", async () => {
    if (realtime) { backToHls("You left real-time viewing."); return; }
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
    controls.realtime.textContent = "⚡ Real-time (on)";
    controls.realtime.setAttribute("aria-pressed", "true");
    try {
      realtime = await watchRealtime(video, config.whepUrl, backToHls);
      controls.realtime.title = "Real-time: the broadcaster's own video, under a second behind.";
    } catch (error) {
      backToHls(`Real-time viewing is not available: ${error.message}.`);
    }
  });
  controls.realtime.hidden = replay || !config.whepUrl || !window.RTCPeerConnection;

  controls.quality.addEventListener("change", () => {
    if (hls) hls.currentLevel = Number(controls.quality.value);
  });
  controls.liveEdge.addEventListener("click", () => {
    if (hls && hls.liveSyncPosition) video.currentTime = hls.liveSyncPosition;
    video.play().catch(() => {});
  });
  controls.unmute.addEventListener("click", () => {
    video.muted = !video.muted;
    controls.unmute.textContent = video.muted ? "🔇 Unmute" : "🔊 Mute";
  });
  controls.fullscreen.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else player.requestFullscreen().catch(() => {});
  });
  video.addEventListener("timeupdate", () => {
    const behind = hls && hls.liveSyncPosition ? hls.latency - hls.targetLatency : 0;
    controls.liveEdge.hidden = replay || !(behind > BEHIND_LIVE_SECONDS);
  });

  document.addEventListener("room:status", (event) => {
    if (replay) return;
    if (event.detail.status === "live") start();
    else stop(`${config.ownerName || "The broadcaster"} is offline.`);
  });
  if (config.status === "live" || replay) start();
  else show(false);
  return { video };
}

function buildControls(player) {
  const bar = document.createElement("div");
  bar.className = "player-controls";
  bar.hidden = true;
  const button = (label, name) => {
    const element = document.createElement("button");
    Object.assign(element, { type: "button", className: "player-button", textContent: label });
    element.dataset[name] = "";
    return element;
  };
  const unmute = button("🔇 Unmute", "unmute");
  const liveEdge = button("⏭ Go live", "liveEdge");
  liveEdge.hidden = true;
  const quality = document.createElement("select");
  quality.className = "player-quality";
  quality.setAttribute("aria-label", "Quality");
  const fullscreen = button("⛶", "fullscreen");
  fullscreen.setAttribute("aria-label", "Fullscreen");
  const realtime = button("⚡ Real-time", "realtime");
  realtime.setAttribute("aria-pressed", "false");
  bar.append(unmute, liveEdge, quality, realtime, fullscreen);
  player.append(bar);

  function fillQualities(levels) {
    quality.replaceChildren(new Option("Auto", "-1", true, true));
    levels.forEach((level, index) => {
      quality.append(new Option(level.height ? `${level.height}p` : `Level ${index + 1}`, String(index)));
    });
  }
  return { bar, unmute, liveEdge, quality, realtime, fullscreen, fillQualities };
}
