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
    <div class="sr-player" role="region" aria-label="Recording player" tabindex="-1">
      <video class="sr-video" controls preload="metadata" playsinline controlslist="nodownload"></video>
      <div class="sr-timeline" hidden>
        <div class="sr-track-bar" aria-hidden="true"><div class="sr-played"></div></div>
        <div class="sr-markers" role="group" aria-label="Evidence moments on the timeline"></div>
      </div>
      <div class="sr-bar" role="toolbar" aria-label="Player controls">
        <button class="sr-play" title="Play / pause (k or space)">▶ Play</button>
        <button class="sr-back" title="Back 10 seconds (j or ←)">⟲ 10 s</button>
        <button class="sr-fwd" title="Forward 10 seconds (l or →)">10 s ⟳</button>
        <label class="sr-speed-label">Speed
          <select class="sr-speed" title="Playback speed ([ slower, ] faster)"></select>
        </label>
        <button class="sr-cc" aria-pressed="false" title="Show or hide the captions (c)" hidden>Captions</button>
        <span class="sr-time" aria-live="off">0:00</span>
        <button class="sr-stamp" title="Store the current moment with the evidence of the item you are working on (m)">+ Add evidence at this moment</button>
      </div>
      <div class="sr-target" aria-live="polite"></div>
      <div class="sr-strip" aria-label="Timeline: click a frame to jump there"></div>
      <div class="sr-notes-title"></div>
      <ol class="sr-notes"></ol>
      <details class="sr-transcript" hidden>
        <summary>Transcript (click a line to jump there)</summary>
        <ol class="sr-cues"></ol>
      </details>
      <div class="sr-keys">Keys, while the player has focus: k / space play-pause · j / l back / forward 10 s · [ / ] speed<span class="sr-keys-cc" hidden> · c captions</span><span class="sr-keys-stamp"> · m add evidence at this moment</span></div>
    </div>`;
  const q = (sel) => root.querySelector(sel);
  const ui = {
    player: q(".sr-player"),
    video: q(".sr-video"), play: q(".sr-play"), back: q(".sr-back"), fwd: q(".sr-fwd"),
    speed: q(".sr-speed"), time: q(".sr-time"), stamp: q(".sr-stamp"), target: q(".sr-target"),
    strip: q(".sr-strip"), notes: q(".sr-notes"), notesTitle: q(".sr-notes-title"),
    timeline: q(".sr-timeline"), markers: q(".sr-markers"), played: q(".sr-played"),
    cc: q(".sr-cc"), keysCc: q(".sr-keys-cc"), transcript: q(".sr-transcript"), cues: q(".sr-cues"),
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

// Where keys typed in the player are left alone: text boxes, lists and expanders keep their
// own keys, and Space / Enter on a button press that button (never play or pause as well).
const TYPING = /^(INPUT|TEXTAREA|SELECT)$/;
const PRESSABLE = /^(BUTTON|SUMMARY|A)$/;
function ownsKey(el, key) {
  if (!el || el.nodeType !== 1) return false;
  if (el.isContentEditable || TYPING.test(el.tagName)) return true;
  const role = el.getAttribute("role") || "";
  if (/^(textbox|combobox|listbox|slider|spinbutton|menuitem|option|radio|checkbox|switch|tab)$/.test(role)) return true;
  if (key === " " || key === "Enter") return PRESSABLE.test(el.tagName) || role === "button" || role === "link";
  return false;
}

// The item the rater is working on: the form's item whose element ("st-key-<key>" class,
// given by Python) holds the focus, or the last one typed or clicked in.
function itemIn(state, path) {
  const byClass = state.itemsByClass;
  if (!byClass || !byClass.size) return null;
  for (const el of path) {
    if (!el || !el.classList) continue;
    for (const c of el.classList) if (byClass.has(c)) return byClass.get(c);
  }
  return null;
}

function target(state) {
  const d = state.data;
  if (state.target && state.itemsById && state.itemsById.has(state.target)) return state.itemsById.get(state.target);
  if (d.active_item) return { id: d.active_item, title: d.active_title || d.active_item };
  return null;
}

function paintTarget(state) {
  const { ui, data } = state;
  const item = target(state);
  const at = fmt(ui.video.currentTime);
  const label = item ? "+ Add evidence to “" + item.title + "” at " + at : "+ Add evidence at this moment";
  if (ui.stamp.textContent !== label) ui.stamp.textContent = label;
  const line = data.can_stamp
    ? "Evidence moments go to: " + (item ? item.title : "the item you score or write in next")
    : (data.read_only ? "This rating is submitted: its evidence is read-only." : "");
  if (ui.target.textContent !== line) ui.target.textContent = line;
}

function install(state) {
  const { ui } = state;
  const v = ui.video;
  const toggle = () => (v.paused ? v.play().catch(() => {}) : v.pause());
  const step = (d) => seek(ui, (v.currentTime || 0) + d);
  const setSpeed = (s) => { v.playbackRate = s; ui.speed.value = String(s); };
  const stamp = () => {
    if (!state.data.can_stamp || state.data.stamping === false) return;
    const item = target(state);
    state.setTriggerValue("stamp", { t: v.currentTime || 0, item: item ? item.id : null, at: Date.now() });
  };
  const captions = () => {
    const track = v.textTracks && v.textTracks[0];
    if (!track || ui.cc.hidden) return;
    track.mode = track.mode === "showing" ? "hidden" : "showing";
    paintCaptions(state);
  };
  state.toggleCaptions = captions;
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
  ui.cc.addEventListener("click", captions);
  // The video's own captions menu changes the track too: keep the button's state true.
  if (v.textTracks) v.textTracks.addEventListener("change", () => paintCaptions(state));
  v.addEventListener("timeupdate", () => paintTarget(state));
  for (const ev of ["loadedmetadata", "durationchange", "timeupdate", "seeked"]) v.addEventListener(ev, () => paintTimeline(state));
  // Keys act only while the focus is inside the player (the event's composed path crosses the
  // component's shadow root), and never when the focused element needs them itself.
  state.onKey = (e) => {
    if (!ui.player.isConnected) { stopListening(state); return; }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const path = e.composedPath();
    if (!path.includes(ui.player)) return;
    if (ownsKey(path[0], e.key)) return;
    const i = SPEEDS.indexOf(v.playbackRate);
    const actions = {
      " ": toggle, k: toggle, K: toggle, j: () => step(-10), J: () => step(-10), l: () => step(10), L: () => step(10),
      ArrowLeft: () => step(-10), ArrowRight: () => step(10), m: stamp, M: stamp, c: captions, C: captions,
      "[": () => setSpeed(SPEEDS[Math.max(0, i - 1)]), "]": () => setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, i + 1)]),
    };
    if (actions[e.key]) { e.preventDefault(); e.stopPropagation(); actions[e.key](); }
  };
  // Which item the rater is working on: focus, typing or a click in an item's box.
  state.onFocus = (e) => {
    if (!ui.player.isConnected) { stopListening(state); return; }
    const item = itemIn(state, e.composedPath());
    if (item && item.id !== state.target) { state.target = item.id; paintTarget(state); }
  };
  document.addEventListener("keydown", state.onKey, true);
  for (const ev of ["focusin", "input", "pointerdown"]) document.addEventListener(ev, state.onFocus, true);
}

function stopListening(state) {
  document.removeEventListener("keydown", state.onKey, true);
  for (const ev of ["focusin", "input", "pointerdown"]) document.removeEventListener(ev, state.onFocus, true);
}

// Evidence moments as markers on a bar under the video, placed at t / duration: each is a
// button ("Evidence at 1:23: item title") that seeks there. Moments closer than a marker's
// width share one marker (naming each note, seeking to the first), so every marker keeps the
// 24 px target WCAG 2.5.8 asks for; the notes list under the player has each one too.
const MARKER_PX = 24;

function markerGroups(notes, d, width) {
  const groups = [];
  for (const n of [...notes].sort((a, b) => a.t - b.t)) {
    const x = Math.min(1, n.t / d) * width;
    const last = groups[groups.length - 1];
    if (last && x - last.x < MARKER_PX) last.notes.push(n);
    else groups.push({ x, notes: [n] });
  }
  return groups;
}

function paintTimeline(state) {
  const { ui } = state;
  const d = ui.video.duration;
  const notes = state.data.notes || [];
  const ok = isFinite(d) && d > 0;
  ui.timeline.hidden = !ok || !notes.length;
  if (!ok) return;
  ui.played.style.width = Math.min(100, (ui.video.currentTime / d) * 100) + "%";
  const width = ui.markers.clientWidth || 600;
  const groups = markerGroups(notes, d, width);
  const key = JSON.stringify([width, groups.map((g) => g.notes.map((n) => [n.t, n.item]))]);
  if (state.markersKey === key) return;
  state.markersKey = key;
  ui.markers.replaceChildren(...groups.map((g) => {
    const b = document.createElement("button");
    const first = g.notes[0];
    b.className = "sr-marker"; b.dataset.t = String(first.t);
    b.style.left = Math.min(100, (first.t / d) * 100) + "%";
    const name = g.notes.length === 1
      ? "Evidence at " + fmt(first.t) + ": " + first.item
      : "Evidence at " + g.notes.map((n) => fmt(n.t) + ": " + n.item).join("; ");
    b.setAttribute("aria-label", name); b.title = name;
    b.addEventListener("click", () => seek(ui, first.t));
    return b;
  }));
}

function paintMarkers(state) {
  paintTimeline(state);  // its key holds the notes: markers are rebuilt only when they change
}

// Captions: a <track> from the recording's captions URL (signed like the recording), and
// the transcript built from its cues, each line a button that seeks to its start.
function paintCaptions(state) {
  const { ui } = state;
  const track = ui.video.textTracks && ui.video.textTracks[0];
  const on = !!track && track.mode === "showing";
  ui.cc.setAttribute("aria-pressed", on ? "true" : "false");
  ui.cc.textContent = on ? "Captions on" : "Captions off";
}

function buildTranscript(state) {
  const { ui } = state;
  const track = ui.video.textTracks && ui.video.textTracks[0];
  const cues = track && track.cues ? Array.from(track.cues) : [];
  ui.cues.replaceChildren(...cues.map((c) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.className = "sr-cue"; b.dataset.t = String(c.startTime);
    const when = document.createElement("span"); when.className = "sr-when"; when.textContent = fmt(c.startTime);
    const what = document.createElement("span");
    what.textContent = (c.getCueAsHTML ? c.getCueAsHTML().textContent : c.text) || "";
    b.append(when, what);
    b.addEventListener("click", () => seek(ui, c.startTime));
    li.appendChild(b); return li;
  }));
  ui.transcript.hidden = cues.length === 0;
}

function setCaptions(state, src) {
  const { ui } = state;
  const old = ui.video.querySelector("track");
  if ((old ? old.getAttribute("src") : null) === (src || null)) return;
  // A renewed link (the signature changes hourly) keeps the captions on if they were.
  const wasOn = !!old && ui.video.textTracks[0] && ui.video.textTracks[0].mode === "showing";
  if (old) old.remove();
  ui.cues.replaceChildren();
  ui.transcript.hidden = true;
  ui.cc.hidden = ui.keysCc.hidden = !src;
  if (!src) return;
  const t = document.createElement("track");
  t.kind = "captions"; t.label = "Captions"; t.srclang = "en";
  t.addEventListener("load", () => buildTranscript(state));
  t.setAttribute("src", src);
  ui.video.appendChild(t);
  // "hidden" loads the cues (for the transcript) without showing them; the rater turns them on.
  const track = ui.video.textTracks[0];
  if (track) {
    track.mode = wasOn ? "showing" : "hidden";
    // The line being spoken is marked in the transcript (aria-current), without moving focus.
    track.addEventListener("cuechange", () => {
      const now = track.activeCues && track.activeCues[0];
      for (const b of ui.cues.querySelectorAll(".sr-cue")) {
        const on = !!now && parseFloat(b.dataset.t) === now.startTime;
        if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      }
    });
  }
  paintCaptions(state);
}

// The focused element, through shadow roots, and its ancestors.
function focusPath() {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  const path = [];
  for (let n = el; n; n = n.parentNode || n.host) path.push(n);
  return path;
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
  state.itemsByClass = new Map((data.items || []).map((it) => [it.cls, it]));
  state.itemsById = new Map((data.items || []).map((it) => [it.id, it]));
  if (data.active_item !== state.lastActive) {
    // Python saw the rater work on another item (a score or note saved): follow it, unless
    // the focus has since gone to another item's box.
    state.lastActive = data.active_item;
    const here = itemIn(state, focusPath());
    state.target = here ? here.id : data.active_item;
  }
  paintTarget(state);
  paintMarkers(state);
  setCaptions(state, data.captions_src || null);
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
    // Unmount (another page): stop listening. Reruns keep the state (and the player stays in
    // the page; it lives in a shadow root, so document.contains() would say it is not).
    if (!state.ui.player.isConnected) stopListening(state);
    else setTimeout(() => { if (!state.ui.player.isConnected) stopListening(state); }, 0);
  };
}
