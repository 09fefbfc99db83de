// Session Rater's recording player (Streamlit components v2).
//
// Streamlit calls this function on every run of the fragment that mounts the player. The
// DOM it builds is kept between calls, so the <video> element is created once and its `src`
// only changes when the recording changes: scoring never restarts or reloads the video.
// Seeking to a note or a thumbnail happens here in the browser, without a round trip.
// Python hears from the player only when the rater asks to stamp the current moment.

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];

const KEEPALIVE_MS = 120000;

// Where the rater was in each recording, kept in this tab (sessionStorage): when the player is
// built afresh (the app process serving this tab died and the proxy moved it to another, or
// the page was reloaded) the video resumes there instead of at 0:00.
const positionKey = (id) => "session-rater:position:" + id;
function rememberPosition(state) {
  const v = state.ui.video;
  if (!v.dataset.recording || !(v.currentTime > 0)) return;
  try { sessionStorage.setItem(positionKey(v.dataset.recording), String(v.currentTime)); } catch (e) { /* private mode */ }
}
function recallPosition(id) {
  try { return parseFloat(sessionStorage.getItem(positionKey(id)) || "0") || 0; } catch (e) { return 0; }
}

function fmt(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
}

function build(parent) {
  // A child of our own: replacing the parent's content would drop the component's CSS.
  const root = document.createElement("div");
  parent.appendChild(root);
  root.innerHTML = `
    <div class="sr-player">
      <video class="sr-video" controls preload="metadata" playsinline controlslist="nodownload"></video>
      <div class="sr-bar" role="toolbar" aria-label="Player controls">
        <button class="sr-play" title="Play / pause (k or space)">▶ Play</button>
        <button class="sr-back" title="Back 10 seconds (j or ←)">⟲ 10 s</button>
        <button class="sr-fwd" title="Forward 10 seconds (l or →)">10 s ⟳</button>
        <label class="sr-speed-label">Speed
          <select class="sr-speed" title="Playback speed ([ slower, ] faster)"></select>
        </label>
        <span class="sr-time" aria-live="off">0:00</span>
        <button class="sr-stamp" title="Store the current moment with the evidence of the item you are scoring (m)">+ Add evidence at this moment</button>
      </div>
      <div class="sr-target"></div>
      <div class="sr-strip" aria-label="Timeline: click a frame to jump there"></div>
      <div class="sr-notes-title"></div>
      <ol class="sr-notes"></ol>
      <div class="sr-keys">Keys: k / space play-pause · j / l back / forward 10 s · [ / ] speed<span class="sr-keys-stamp"> · m add evidence at this moment</span></div>
    </div>`;
  const q = (sel) => root.querySelector(sel);
  const ui = {
    video: q(".sr-video"), play: q(".sr-play"), back: q(".sr-back"), fwd: q(".sr-fwd"),
    speed: q(".sr-speed"), time: q(".sr-time"), stamp: q(".sr-stamp"), target: q(".sr-target"),
    strip: q(".sr-strip"), notes: q(".sr-notes"), notesTitle: q(".sr-notes-title"),
  };
  for (const s of SPEEDS) {
    const o = document.createElement("option");
    o.value = String(s); o.textContent = s + "×"; if (s === 1) o.selected = true;
    ui.speed.appendChild(o);
  }
  return ui;
}

function seek(ui, t) {
  const v = ui.video;
  const go = () => { v.currentTime = Math.min(Math.max(0, t), (v.duration || t + 1) - 0.05); };
  if (v.readyState >= 1) go(); else v.addEventListener("loadedmetadata", go, { once: true });
}

function install(state) {
  const { ui } = state;
  const v = ui.video;
  const toggle = () => (v.paused ? v.play() : v.pause());
  const step = (d) => seek(ui, (v.currentTime || 0) + d);
  const setSpeed = (s) => { v.playbackRate = s; ui.speed.value = String(s); };
  const stamp = () => {
    if (!state.data.can_stamp) return;
    state.setTriggerValue("stamp", { t: v.currentTime || 0, item: state.data.active_item, at: Date.now() });
  };
  ui.play.addEventListener("click", toggle);
  ui.back.addEventListener("click", () => step(-10));
  ui.fwd.addEventListener("click", () => step(10));
  ui.speed.addEventListener("change", () => setSpeed(parseFloat(ui.speed.value)));
  ui.stamp.addEventListener("click", stamp);
  const paint = () => {
    ui.play.textContent = v.paused ? "▶ Play" : "❚❚ Pause";
    ui.time.textContent = fmt(v.currentTime) + " / " + fmt(v.duration);
  };
  for (const ev of ["play", "pause", "timeupdate", "loadedmetadata", "seeked"]) v.addEventListener(ev, paint);
  state.savedAt = 0;
  v.addEventListener("timeupdate", () => {
    if (Date.now() - state.savedAt < 1000) return;
    state.savedAt = Date.now();
    rememberPosition(state);
  });
  for (const ev of ["pause", "seeked"]) v.addEventListener(ev, () => rememberPosition(state));
  // The stream broke (the process serving it went away): load it again through the proxy,
  // which reaches another process, and carry on from the same moment. A few tries at most.
  state.retries = 0;
  v.addEventListener("error", () => {
    if (state.retries >= 5 || !v.getAttribute("src")) return;
    state.retries += 1;
    const t = recallPosition(v.dataset.recording), wasPlaying = !v.paused;
    setTimeout(() => {
      v.load();
      seek(ui, t);
      if (wasPlaying) v.addEventListener("loadedmetadata", () => v.play().catch(() => {}), { once: true });
    }, 1000 * state.retries);
  });
  v.addEventListener("playing", () => { state.retries = 0; });
  // Watching is activity: while the video plays, tell the server every two minutes, so that a
  // rater who watches without touching the form is not signed out for being idle.
  state.aliveAt = 0;
  v.addEventListener("timeupdate", () => {
    if (v.paused || Date.now() - state.aliveAt < KEEPALIVE_MS) return;
    state.aliveAt = Date.now();
    fetch(new URL("/session/keepalive", state.data.src), { method: "POST", credentials: "same-origin" }).catch(() => {});
  });
  state.onKey = (e) => {
    const t = e.target;
    const typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const i = SPEEDS.indexOf(v.playbackRate);
    const actions = {
      " ": toggle, k: toggle, K: toggle, j: () => step(-10), J: () => step(-10), l: () => step(10), L: () => step(10),
      ArrowLeft: () => step(-10), ArrowRight: () => step(10), m: stamp, M: stamp,
      "[": () => setSpeed(SPEEDS[Math.max(0, i - 1)]), "]": () => setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, i + 1)]),
    };
    if (actions[e.key] && document.contains(v)) { e.preventDefault(); actions[e.key](); }
  };
  document.addEventListener("keydown", state.onKey);
}

function render(state) {
  const { ui, data } = state;
  if (data.viewer_cookie) document.cookie = data.viewer_cookie;
  if (ui.video.getAttribute("src") !== data.src) {
    const sameRecording = ui.video.dataset.recording === String(data.recording_id);
    const at = sameRecording ? ui.video.currentTime : recallPosition(data.recording_id);
    ui.video.setAttribute("src", data.src);
    ui.video.dataset.recording = String(data.recording_id);
    if (at > 0) seek(ui, at);  // a fresh player (or a renewed link) resumes where the rater was
  }
  // A link to a moment (?at=): seek there once for each moment asked for.
  if (data.start_at != null && state.startAt !== data.start_at) {
    state.startAt = data.start_at;
    seek(ui, data.start_at);
  }
  ui.stamp.hidden = data.stamping === false;
  const keysStamp = ui.stamp.closest(".sr-player").querySelector(".sr-keys-stamp");
  if (keysStamp) keysStamp.hidden = data.stamping === false;
  ui.stamp.disabled = !data.can_stamp;
  ui.target.textContent = data.can_stamp
    ? "Evidence moments go to: " + (data.active_title || "the item you score next")
    : (data.read_only ? "This rating is submitted: its evidence is read-only." : "");
  if (state.stripKey !== data.strip_key) {
    state.stripKey = data.strip_key;
    ui.strip.replaceChildren(...(data.thumbnails || []).map((th) => {
      const b = document.createElement("button");
      b.className = "sr-thumb"; b.title = "Jump to " + fmt(th.t); b.dataset.t = String(th.t);
      const img = document.createElement("img"); img.src = th.src; img.alt = "Frame at " + fmt(th.t);
      const cap = document.createElement("span"); cap.textContent = fmt(th.t);
      b.append(img, cap); b.addEventListener("click", () => seek(ui, th.t));
      return b;
    }));
  }
  const notes = data.notes || [];
  ui.notesTitle.textContent = notes.length ? "Evidence notes (click one to jump there)" : "";
  ui.notes.replaceChildren(...notes.map((n) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.className = "sr-note"; b.dataset.t = String(n.t); b.title = "Jump to " + fmt(n.t);
    const when = document.createElement("span"); when.className = "sr-when"; when.textContent = fmt(n.t);
    const what = document.createElement("span"); what.textContent = n.item + (n.text ? " — " + n.text : "");
    b.append(when, what); b.addEventListener("click", () => seek(ui, n.t));
    li.appendChild(b); return li;
  }));
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = parentElement.__srPlayer;
  if (!state) {
    state = { ui: build(parentElement), data, setTriggerValue };
    parentElement.__srPlayer = state;
    install(state);
  }
  state.data = data || {};
  state.setTriggerValue = setTriggerValue;
  render(state);
  return () => {
    // Unmount (another page): stop listening for keys. Reruns keep the state.
    if (!document.contains(state.ui.video)) document.removeEventListener("keydown", state.onKey);
  };
}
