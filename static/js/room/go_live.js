// The go-live page: capture a camera (or the screen) and a microphone, preview them, and
// publish over WHIP (RFC 9725) to /whip/ with the page's go-live token as the Bearer.
// The whole offer is sent at once (no trickle ICE): we wait for candidate gathering.
// Beside the preview, the room page's own modules on one monitor socket (the owner's tab
// is not counted as a viewer): chat, the viewer count, stream health and status.
import { mountHealth } from "../dashboard/health.js";
import { mountAudience } from "./audience.js";
import { mountChat } from "./chat.js";
import { mountReports } from "./reports.js";
import { RoomSocket } from "./socket.js";

const config = JSON.parse(document.getElementById("go-live-config")?.textContent || "null");
const root = document.querySelector("[data-go-live]");

const REFUSALS = {
  401: "This page's go-live pass is no longer valid (the stream key changed?): reload the page.",
  403: "The room is stopped or not allowed to go live: press Start in the stream manager.",
  409: "The room is already live from another connection (OBS or another tab).",
  413: "The browser's offer was too large.",
  429: "Too many attempts: wait a minute and try again.",
  503: "The server cannot take a stream right now: try again shortly.",
};

function el(name) {
  return root.querySelector(`[data-${name}]`);
}

let stream = null;
let peer = null;
let session = null;
let facing = "user";

function say(text) {
  el("status").textContent = text;
}

function fail(text) {
  const box = el("error");
  box.textContent = text;
  box.hidden = !text;
}

function captureError(error) {
  if (error.name === "NotAllowedError" || error.name === "SecurityError") {
    return "The browser was not allowed to use the camera or microphone: allow them in the address bar, then try again.";
  }
  if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
    return "No camera or microphone matches your choice: pick another one.";
  }
  return `Could not start capturing: ${error.message || error.name}`;
}

function cameraConstraints() {
  const [width, height] = el("resolution").value.split("x").map(Number);
  const video = { width: { ideal: width }, height: { ideal: height } };
  const camera = el("camera").value;
  if (camera) video.deviceId = { exact: camera };
  else video.facingMode = facing;
  return video;
}

async function capture() {
  const video = cameraConstraints();
  const microphone = el("microphone").value;
  const audio = microphone ? { deviceId: { exact: microphone } } : true;
  if (el("screen").checked) {
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const voice = await navigator.mediaDevices.getUserMedia({ audio });
    return new MediaStream([...screen.getVideoTracks(), ...voice.getAudioTracks()]);
  }
  return navigator.mediaDevices.getUserMedia({ video, audio });
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const [kind, select] of [["videoinput", el("camera")], ["audioinput", el("microphone")]]) {
    const chosen = select.value;
    select.length = 1;
    for (const device of devices.filter((d) => d.kind === kind)) {
      const option = new Option(device.label || `${kind} ${select.length}`, device.deviceId);
      select.add(option);
    }
    select.value = chosen;
  }
}

async function preview() {
  if (peer) return; // the choice applies to the next go-live
  stream?.getTracks().forEach((track) => track.stop());
  try {
    stream = await capture();
    el("preview").srcObject = stream;
    fail("");
    await listDevices();
  } catch (error) {
    stream = null;
    fail(captureError(error));
  }
}

async function switchCamera() {
  facing = facing === "user" ? "environment" : "user";
  el("camera").value = "";
  if (!peer || !stream || el("screen").checked) return preview();
  // Live: swap the video track under the same connection, so viewers see no gap but
  // the switch. A phone may open one camera at a time: the old one stops first.
  const old = stream.getVideoTracks()[0];
  old?.stop();
  try {
    const [track] = (await navigator.mediaDevices.getUserMedia({ video: cameraConstraints() })).getVideoTracks();
    await peer.getSenders().find((sender) => sender.track?.kind === "video")?.replaceTrack(track);
    if (old) stream.removeTrack(old);
    stream.addTrack(track);
    el("preview").srcObject = stream;
    fail("");
  } catch (error) {
    fail(captureError(error));
  }
}

function showOrientation() {
  const video = el("preview");
  if (video.videoWidth) root.dataset.orientation = video.videoHeight > video.videoWidth ? "portrait" : "landscape";
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
    setTimeout(resolve, 3000); // send what we have: host candidates come first
  });
}

function preferH264(transceiver) {
  // The server copies H.264 into the source rendition without re-encoding it.
  const codecs = RTCRtpSender.getCapabilities?.("video")?.codecs;
  if (!codecs || !transceiver.setCodecPreferences) return;
  const h264 = codecs.filter((c) => c.mimeType.toLowerCase() === "video/h264");
  const rest = codecs.filter((c) => c.mimeType.toLowerCase() !== "video/h264");
  transceiver.setCodecPreferences([...h264, ...rest]);
}

async function start() {
  fail("");
  if (!stream) await preview();
  if (!stream) return;
  el("start").disabled = true;
  say("Connecting…");
  peer = new RTCPeerConnection();
  const bitrate = Number(el("bitrate").value);
  for (const track of stream.getTracks()) {
    const options = { direction: "sendonly", streams: [stream] };
    if (track.kind === "video") options.sendEncodings = [{ maxBitrate: bitrate }];
    const transceiver = peer.addTransceiver(track, options);
    if (track.kind === "video") preferH264(transceiver);
  }
  peer.addEventListener("connectionstatechange", () => {
    const state = peer?.connectionState;
    if (state === "connected") say("Live: viewers see you in a few seconds.");
    if (state === "failed") stop("The connection to the server failed: check your network.");
  });
  await peer.setLocalDescription(await peer.createOffer());
  await gathered(peer);
  let response;
  try {
    response = await fetch(config.whipUrl, {
      method: "POST",
      headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${config.token}` },
      body: peer.localDescription.sdp,
    });
  } catch {
    return stop("Could not reach the server.");
  }
  if (response.status !== 201) {
    const reason = (await response.text()).trim();
    return stop(REFUSALS[response.status] || `The server refused the stream: ${reason}`);
  }
  session = new URL(response.headers.get("Location"), config.whipUrl).href;
  await peer.setRemoteDescription({ type: "answer", sdp: await response.text() });
  el("stop").disabled = false;
  root.dataset.state = "live";
}

async function stop(problem = "") {
  const ending = session;
  session = null;
  peer?.close();
  peer = null;
  if (ending) {
    await fetch(ending, { method: "DELETE" }).catch(() => {});
  }
  el("start").disabled = false;
  el("stop").disabled = true;
  root.dataset.state = "stopped";
  say(problem ? "Not live." : "Stream ended.");
  fail(problem);
}

if (root && config) {
  // A phone held upright sends upright (portrait) video unless the broadcaster picks otherwise.
  if (matchMedia("(orientation: portrait) and (max-width: 900px)").matches) el("resolution").value = "720x1280";
  for (const name of ["camera", "microphone", "resolution", "screen"]) {
    el(name).addEventListener("change", preview);
  }
  el("preview").addEventListener("resize", showOrientation);
  el("preview").addEventListener("loadedmetadata", showOrientation);
  el("flip").addEventListener("click", switchCamera);
  el("start").addEventListener("click", start);
  el("stop").addEventListener("click", () => stop());
  window.addEventListener("pagehide", () => {
    // Best effort: if it never arrives, the server sees the peer go away anyway.
    if (session) fetch(session, { method: "DELETE", keepalive: true }).catch(() => {});
  });
  preview();

  const socket = new RoomSocket(config.socketPath);
  mountChat(root, socket, config);
  mountAudience(root, socket);
  mountReports(root, config);
  mountHealth(socket);
  socket.on("room.status", (event) => {
    config.stream = event.stream;
  });
}
