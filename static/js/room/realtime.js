// Real-time viewing over WHEP: the publisher's own WebRTC video, about half a second
// behind instead of several seconds of HLS. `watchRealtime` resolves once the answer is
// applied and calls `onFail` if the connection fails later; the player then goes back
// to HLS. A connection that has not formed within CONNECT_MS (ICE found no path: a
// firewall, an unreachable server address) fails the same way.

const CONNECT_MS = 10000;

export async function watchRealtime(video, url, onFail) {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  const stream = new MediaStream();
  pc.addEventListener("track", (event) => {
    stream.addTrack(event.track);
    video.srcObject = stream;
    video.play().catch(() => {});
  });
  let session = null;
  let connectTimer = null;
  const stop = () => {
    clearTimeout(connectTimer);
    pc.close();
    video.srcObject = null;
    if (session) fetch(session, { method: "DELETE", keepalive: true }).catch(() => {});
    session = null;
  };
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed") {
      stop();
      onFail("The real-time connection failed.");
    }
  });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") resolve();
    });
    setTimeout(resolve, 2000);
  });
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) {
    pc.close();
    throw new Error((await response.text()).trim() || `refused (${response.status})`);
  }
  session = new URL(response.headers.get("Location"), new URL(url, window.location.href)).href;
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  connectTimer = setTimeout(() => {
    if (pc.connectionState === "connected" || pc.signalingState === "closed") return;
    stop();
    onFail("The real-time connection could not be made.");
  }, CONNECT_MS);
  return { stop };
}
