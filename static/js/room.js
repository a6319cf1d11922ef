// The meeting room: presence, time left, chat, shared notes and one-to-one video.
//
// Video uses WebRTC "perfect negotiation": both parties may start negotiating at any time and
// the *polite* one (the snapshot says which) gives way when both offer at once. The first offer
// of each peer connection is the impolite side's. Offers, answers and ICE candidates travel over
// the room's socket as {"type": "signal", "data": {...}}.
//
// Every page load picks a random `session`. A party announces itself with {hello: true} when its
// socket opens; the other side answers with its own hello, addressed to it (`to`). A signal from
// a session not seen before means the partner's page is new (first arrival, reload): the old
// peer connection is dropped and a fresh one negotiates. A socket that merely reconnected keeps
// its session, so the video is not interrupted. Only the two participants negotiate: organisers
// send no signals and signals from organisers are ignored.
//
// Debugging hook: `window.clockRoom` exposes the current RTCPeerConnection (`pc`), the socket and
// the room state; the end-to-end tests read `window.clockRoom.pc.connectionState` through it.

import { LiveSocket, clockOffset, el, formatLeft, startsIn, timeIn } from "./live-socket.js";

const root = document.getElementById("room");
const isParticipant = root.dataset.role === "participant";
const myId = Number(root.dataset.participantId) || null;
const zone = root.dataset.zone;
const WARN_BEFORE_MS = 2 * 60 * 1000;
const NEXT_CARD_BEFORE_MS = 60 * 1000;
const NOTE_DEBOUNCE_MS = 700;
// The most the server reads of one message, in UTF-8 bytes: notes within the length limit can
// exceed it when written mostly in non-Latin scripts or symbols.
const MAX_MESSAGE = Number(root.dataset.maxMessage) || 16384;

const STATE_WORDS = {
  joined: "in the room",
  reconnecting: "reconnecting…",
  left: "left",
  absent: "not arrived yet",
};

const room = {
  me: null,
  meeting: null,
  next: null,
  parties: [],
  presence: {}, // participant id -> state
  organisers: new Map(), // user id -> name, while present
  offset: 0, // server clock minus ours
  polite: false,
  iceServers: [],
  chatSeqs: new Set(),
};

function randomId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- connection status

const conn = $("room-conn");
function showConnection(status, detail) {
  conn.dataset.state = status;
  if (status === "open") {
    conn.textContent = "Connected.";
  } else if (status === "reconnecting") {
    conn.textContent =
      typeof detail === "number" ? "Connection lost: trying again in " + detail + " s…" : "Reconnecting…";
  } else if (status === "closed") {
    conn.textContent = detail || "Disconnected.";
  } else {
    conn.textContent = "Connecting…";
  }
}

// ---------------------------------------------------------------- presence

function renderPresence() {
  for (const item of document.querySelectorAll("#room-presence li[data-pid]")) {
    const state = room.presence[item.dataset.pid] || "absent";
    item.querySelector(".live-dot").dataset.state = state;
    item.querySelector('[data-field="state"]').textContent = STATE_WORDS[state] || state;
  }
  const organisers = $("room-organisers");
  const names = [...room.organisers.values()];
  organisers.hidden = names.length === 0;
  organisers.textContent = names.length ? "Organisers here: " + names.join(", ") + "." : "";
  if (isParticipant) {
    renderVideoState();
  }
}

function partnerId() {
  const other = room.parties.find((p) => p.participant_id !== myId);
  return other ? other.participant_id : null;
}

function onPresence(message) {
  const who = message.who || {};
  if (who.role === "organiser") {
    if (message.state === "joined") {
      room.organisers.set(who.user_id, who.name);
    } else {
      room.organisers.delete(who.user_id);
    }
  } else if (who.participant_id !== null && who.participant_id !== undefined) {
    // The peer connection is kept when the partner leaves: a "left" may reach us after the
    // hello of their reloaded page, and a new page (a new session) replaces it anyway.
    room.presence[String(who.participant_id)] = message.state;
  }
  renderPresence();
}

// ---------------------------------------------------------------- clock

function tick() {
  if (!room.meeting) {
    return;
  }
  const now = Date.now() + room.offset;
  const starts = Date.parse(room.meeting.starts_at);
  const ends = Date.parse(room.meeting.ends_at);
  const timer = $("room-timer");
  if (now < starts) {
    timer.textContent = startsIn(starts - now, room.meeting.starts_at, zone);
    timer.dataset.phase = "before";
  } else if (now < ends) {
    timer.textContent = formatLeft(ends - now) + " left";
    timer.dataset.phase = ends - now <= WARN_BEFORE_MS ? "ending" : "running";
  } else {
    timer.textContent = "The meeting time is over.";
    timer.dataset.phase = "over";
  }
  $("room-warning").hidden = !(now < ends && ends - now <= WARN_BEFORE_MS);
  const outcome = $("room-outcome");
  if (outcome) {
    outcome.hidden = now < ends; // when the slot ends, ask what came of the meeting
  }
  const card = $("room-next");
  const next = room.next;
  if (next && now >= Date.parse(next.starts_at) - NEXT_CARD_BEFORE_MS) {
    card.querySelector('[data-field="who"]').textContent =
      "With " + next.partner + (next.organisation ? " (" + next.organisation + ")" : "");
    card.querySelector('[data-field="when"]').textContent =
      timeIn(next.starts_at, zone) + "–" + timeIn(next.ends_at, zone) + (next.table ? " · table " + next.table : "");
    card.querySelector('[data-field="link"]').setAttribute("href", next.room_url);
    card.hidden = false;
  } else {
    card.hidden = true;
  }
}

// ---------------------------------------------------------------- chat

const chatLog = $("chat-log");
function addChat(message) {
  if (room.chatSeqs.has(message.seq)) {
    return;
  }
  room.chatSeqs.add(message.seq);
  const from = message.from || {};
  const mine = room.me !== null && from.user_id === room.me.user_id;
  const item = el(
    "li",
    { class: mine ? "mine" : null, "data-seq": message.seq },
    el("span", { class: "live-chat-who" }, from.name || "Someone"),
    " ",
    el("time", { class: "meta", datetime: message.at }, message.at ? timeIn(message.at, zone) : ""),
    el("p", {}, message.text),
  );
  chatLog.append(item);
  chatLog.scrollTop = chatLog.scrollHeight;
}

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("chat-text");
  const text = input.value.trim();
  if (!text) {
    return;
  }
  if (socket.send({ type: "chat", text })) {
    input.value = "";
    $("chat-error").textContent = "";
  } else {
    $("chat-error").textContent = "Not connected right now: your message is kept, send it again in a moment.";
  }
});

// ---------------------------------------------------------------- shared notes

const notes = $("room-notes");
let noteTimer = null;
let notePending = false;
let lastNoteSent = null;

function noteStatus(text) {
  $("notes-status").textContent = text;
}

function tooLong(message) {
  // How many characters to remove, about, for the message to fit; 0 when it fits.
  const bytes = new TextEncoder().encode(JSON.stringify(message)).length;
  if (bytes <= MAX_MESSAGE) {
    return 0;
  }
  return Math.ceil(((bytes - MAX_MESSAGE) * message.text.length) / bytes) + 1;
}

function sendNote() {
  window.clearTimeout(noteTimer);
  const message = { type: "note", text: notes.value };
  const over = tooLong(message);
  if (over > 0) {
    notePending = true;
    noteStatus("Too long to save: please shorten the notes by about " + over + " characters.");
    return;
  }
  if (socket.send(message)) {
    notePending = false;
    lastNoteSent = notes.value;
    noteStatus("Saving…");
  } else {
    notePending = true;
    noteStatus("Not connected: your notes will be saved when the connection is back.");
  }
}

if (isParticipant) {
  notes.addEventListener("input", () => {
    notePending = true;
    window.clearTimeout(noteTimer);
    noteTimer = window.setTimeout(sendNote, NOTE_DEBOUNCE_MS);
  });
}

function onNote(message) {
  const by = message.by || {};
  const when = message.at ? " at " + timeIn(message.at, zone) : "";
  if (notePending && document.activeElement === notes) {
    return; // our own edit, about to be sent, wins (last writer)
  }
  if (notes.value !== message.text) {
    notes.value = message.text;
  }
  if (message.text === lastNoteSent) {
    noteStatus("Saved" + when + ".");
  } else if (by.name) {
    noteStatus("Last edited by " + by.name + when + ".");
  }
}

// ---------------------------------------------------------------- video (participants only)

const video = {
  session: randomId(),
  remoteSession: null,
  pc: null,
  makingOffer: false,
  ignoreOffer: false,
  settingAnswer: false,
  localStream: null,
  screenTrack: null,
  queue: Promise.resolve(),
  mediaSettled: Promise.resolve(), // replaced by the first camera request
  trail: [], // the last negotiation steps, for debugging (window.clockRoom.video.trail)

  note(step) {
    this.trail.push(new Date().toISOString().slice(11, 23) + " " + step);
    if (this.trail.length > 100) {
      this.trail.shift();
    }
  },
  meter: null,

  signal(data) {
    const payload = Object.assign({ session: this.session }, data);
    if (this.remoteSession && !data.hello) {
      payload.to = this.remoteSession;
    }
    socket.send({ type: "signal", data: payload });
  },

  // "Here I am": to everyone when our socket opens, to one page when answering its hello.
  hello(to = null) {
    this.signal(to ? { hello: true, to } : { hello: true });
  },

  close() {
    if (this.pc) {
      const old = this.pc;
      this.pc = null;
      old.onicecandidate = old.ontrack = old.onnegotiationneeded = null;
      old.onconnectionstatechange = old.oniceconnectionstatechange = null;
      old.close();
    }
    $("remote-video").srcObject = null;
    renderVideoState();
  },

  open() {
    this.close();
    this.note("new peer connection for " + String(this.remoteSession).slice(0, 8));
    const pc = new RTCPeerConnection({ iceServers: room.iceServers });
    this.pc = pc;
    this.makingOffer = this.ignoreOffer = this.settingAnswer = false;
    pc.onicecandidate = ({ candidate }) => {
      if (this.pc === pc) {
        this.note("send candidate" + (candidate ? "" : " (end)"));
        this.signal({ candidate: candidate ? candidate.toJSON() : null });
      }
    };
    pc.ontrack = ({ track, streams }) => {
      if (this.pc !== pc) {
        return;
      }
      const remote = $("remote-video");
      const stream = streams[0] || new MediaStream([track]);
      if (remote.srcObject !== stream) {
        remote.srcObject = stream;
        playRemote(remote);
      }
    };
    pc.onnegotiationneeded = async () => {
      if (this.pc !== pc) {
        return;
      }
      if (room.polite && !pc.currentRemoteDescription) {
        // The first offer is the impolite side's. Offering at once from both sides works in
        // principle (the polite one rolls back), but Chromium then at times gathers no ICE
        // candidates for the answer and the call never connects. Our tracks join the first
        // answer instead; anything they leave out is negotiated again once it is stable.
        this.note("wait for the first offer");
        return;
      }
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.note("send " + pc.localDescription.type);
        this.signal({ description: pc.localDescription.toJSON() });
      } catch (err) {
        console.warn("offer failed", err);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === "failed") {
        pc.restartIce();
      }
    };
    pc.onconnectionstatechange = () => {
      this.note("connection " + pc.connectionState);
      renderVideoState();
    };
    if (this.localStream) {
      for (const track of this.localStream.getTracks()) {
        pc.addTrack(this.screenTrack && track.kind === "video" ? this.screenTrack : track, this.localStream);
      }
    }
    if (this.screenTrack && !this.track("video")) {
      pc.addTrack(this.screenTrack, new MediaStream([this.screenTrack]));
    }
    if (!room.polite) {
      // The impolite side always makes the first offer, with or without a camera and microphone.
      const sending = new Set(pc.getSenders().map((s) => s.track && s.track.kind));
      for (const kind of ["audio", "video"]) {
        if (!sending.has(kind)) {
          pc.addTransceiver(kind, { direction: "recvonly" });
        }
      }
    }
    renderVideoState();
  },

  receive(message) {
    // One signal at a time, in arrival order: negotiation steps must not interleave.
    this.queue = this.queue
      .then(() => this.handle(message))
      .catch((err) => this.note("error " + (err && err.name) + ": " + (err && err.message)));
  },

  async handle(message) {
    const from = message.from || {};
    const data = message.data || {};
    if (from.role === "organiser" || from.participant_id === myId || typeof data.session !== "string") {
      return;
    }
    // No peer connection before the browser has answered for camera and microphone: the tracks
    // go in from the start, and a page without that permission offers only obfuscated addresses.
    await this.mediaSettled;
    this.note(
      "got " + (data.hello ? "hello" : data.description ? data.description.type : "candidate") +
        " from " + data.session.slice(0, 8) + (data.to ? " to " + data.to.slice(0, 8) : ""),
    );
    if (data.to && data.to !== this.session) {
      return; // meant for another page of ours (an older tab)
    }
    if (data.session !== this.remoteSession) {
      // The partner's page is new to us: start over with a fresh connection.
      this.remoteSession = data.session;
      this.open();
      if (data.hello && !data.to) {
        this.hello(data.session); // a page that does not know us yet: tell it who we are
      }
    }
    if (!this.pc) {
      return;
    }
    if (data.hello) {
      if (!data.to) {
        // A known page whose socket came back: whatever it missed meanwhile is sent again.
        this.resume();
      }
      return;
    }
    const pc = this.pc;
    if (data.description) {
      const description = data.description;
      const readyForOffer = !this.makingOffer && (pc.signalingState === "stable" || this.settingAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !room.polite && collision;
      if (this.ignoreOffer) {
        this.note("ignore colliding offer");
        return;
      }
      this.settingAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);
      this.settingAnswer = false;
      this.note("applied " + description.type + ", now " + pc.signalingState);
      if (description.type === "offer") {
        await pc.setLocalDescription();
        this.note("send " + pc.localDescription.type);
        this.signal({ description: pc.localDescription.toJSON() });
      }
    } else if ("candidate" in data) {
      try {
        await pc.addIceCandidate(data.candidate || undefined);
      } catch (err) {
        if (!this.ignoreOffer) {
          throw err;
        }
      }
    }
  },

  // After a dropped socket a signal may be lost: an offer waiting for an answer is sent
  // again, and a connection that is not up restarts ICE (which negotiates afresh).
  resume() {
    const pc = this.pc;
    if (!pc || !this.remoteSession) {
      return;
    }
    if (pc.signalingState === "have-local-offer" && pc.localDescription) {
      this.note("send offer again");
      this.signal({ description: pc.localDescription.toJSON() });
    } else if (pc.signalingState === "stable" && pc.connectionState !== "connected") {
      pc.restartIce();
    }
  },

  videoSender() {
    return this.pc ? this.pc.getSenders().find((s) => s.track && s.track.kind === "video") : null;
  },

  async startMedia() {
    const error = $("media-error");
    error.textContent = "";
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch (err) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        error.textContent = "No camera available: you take part with sound only.";
      } catch (err2) {
        error.textContent =
          "The browser gave no access to camera or microphone (" +
          (err2.name || "error") +
          "). You can still chat, see and hear your partner.";
        $("device-test").open = true;
        updateControls();
        return;
      }
    }
    if (this.localStream) {
      for (const track of this.localStream.getTracks()) {
        track.stop();
      }
    }
    this.localStream = stream;
    $("local-video").srcObject = stream;
    if (this.pc) {
      const senders = this.pc.getSenders();
      for (const track of stream.getTracks()) {
        const sender = senders.find((s) => (s.track && s.track.kind) === track.kind);
        if (sender) {
          await sender.replaceTrack(track);
        } else {
          this.pc.addTrack(track, stream);
        }
      }
    }
    this.startMeter(stream);
    updateControls();
  },

  startMeter(stream) {
    if (this.meter) {
      this.meter.context.close();
      this.meter = null;
    }
    const AudioContextClass = window.AudioContext || window.webkitAudioContext;
    if (!AudioContextClass || stream.getAudioTracks().length === 0) {
      return;
    }
    const context = new AudioContextClass();
    const analyser = context.createAnalyser();
    analyser.fftSize = 512;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const meter = $("mic-level");
    this.meter = { context };
    const draw = () => {
      if (!this.meter || this.meter.context !== context) {
        return;
      }
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) {
        sum += s * s;
      }
      // RMS, stretched so normal speech fills about half of the bar.
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      window.requestAnimationFrame(draw);
    };
    draw();
    // Browsers start audio suspended until the page is touched.
    document.addEventListener("click", () => context.resume(), { once: true });
  },

  track(kind) {
    return this.localStream ? this.localStream.getTracks().find((t) => t.kind === kind) : null;
  },

  async toggleScreen() {
    if (this.screenTrack) {
      await this.stopScreen();
      return;
    }
    let display;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch (err) {
      return; // the user chose not to share
    }
    this.screenTrack = display.getVideoTracks()[0];
    this.screenTrack.addEventListener("ended", () => this.stopScreen());
    const sender = this.videoSender();
    if (sender) {
      await sender.replaceTrack(this.screenTrack);
    } else if (this.pc) {
      this.pc.addTrack(this.screenTrack, display);
    }
    $("local-video").srcObject = display;
    $("local-video").dataset.screen = "yes";
    updateControls();
  },

  async stopScreen() {
    const screen = this.screenTrack;
    if (!screen) {
      return;
    }
    this.screenTrack = null;
    screen.stop();
    const camera = this.track("video");
    if (this.pc) {
      const sender = this.pc.getSenders().find((s) => s.track === screen);
      if (sender && camera) {
        await sender.replaceTrack(camera);
      } else if (sender) {
        this.pc.removeTrack(sender);
      }
    }
    $("local-video").srcObject = this.localStream;
    delete $("local-video").dataset.screen;
    updateControls();
  },
};

function playRemote(remote) {
  remote.muted = false;
  remote.play().catch(() => {
    // Autoplay with sound refused until the page is touched: play muted, offer the sound.
    remote.muted = true;
    remote.play().catch(() => {});
    $("unmute-remote").hidden = false;
  });
}

function renderVideoState() {
  const note = $("video-state");
  if (!note) {
    return;
  }
  const partner = room.parties.find((p) => p.participant_id !== myId);
  const name = partner ? partner.name : "your partner";
  const partnerState = partner ? room.presence[String(partner.participant_id)] : "absent";
  const pc = video.pc;
  let text = "";
  if (partnerState === "left") {
    text = name + " has left the room.";
  } else if (pc && pc.connectionState === "connected") {
    text = "";
  } else if (partnerState === "reconnecting") {
    text = name + "'s connection dropped: waiting for them to come back…";
  } else if (partnerState !== "joined") {
    text = "Waiting for " + name + " to join…";
  } else if (pc && pc.connectionState === "failed") {
    text = "The video connection failed: trying again…";
  } else {
    text = "Connecting the video…";
  }
  note.textContent = text;
  note.hidden = text === "";
  root.dataset.video = pc ? pc.connectionState : "none";
}

function updateControls() {
  const mic = video.track("audio");
  const camera = video.track("video");
  const micButton = $("toggle-mic");
  const cameraButton = $("toggle-camera");
  const screenButton = $("toggle-screen");
  micButton.disabled = !mic;
  cameraButton.disabled = !camera;
  screenButton.disabled = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
  micButton.setAttribute("aria-pressed", String(Boolean(mic && !mic.enabled)));
  micButton.textContent = mic && !mic.enabled ? "Unmute microphone" : "Mute microphone";
  cameraButton.setAttribute("aria-pressed", String(Boolean(camera && !camera.enabled)));
  cameraButton.textContent = camera && !camera.enabled ? "Turn camera on" : "Turn camera off";
  screenButton.setAttribute("aria-pressed", String(Boolean(video.screenTrack)));
  screenButton.textContent = video.screenTrack ? "Stop sharing" : "Share screen";
}

if (isParticipant) {
  $("toggle-mic").addEventListener("click", () => {
    const mic = video.track("audio");
    if (mic) {
      mic.enabled = !mic.enabled;
    }
    updateControls();
  });
  $("toggle-camera").addEventListener("click", () => {
    const camera = video.track("video");
    if (camera) {
      camera.enabled = !camera.enabled;
    }
    updateControls();
  });
  $("toggle-screen").addEventListener("click", () => video.toggleScreen());
  $("unmute-remote").addEventListener("click", () => {
    const remote = $("remote-video");
    remote.muted = false;
    remote.play().catch(() => {});
    $("unmute-remote").hidden = true;
  });
  $("media-retry").addEventListener("click", () => video.startMedia());
}

// ---------------------------------------------------------------- messages

function onSnapshot(snapshot) {
  room.me = snapshot.me || null;
  room.meeting = snapshot.meeting;
  room.next = snapshot.next_meeting;
  room.parties = snapshot.parties || [];
  room.presence = Object.assign({}, snapshot.presence || {});
  room.organisers = new Map((snapshot.organisers || []).map((o) => [o.user_id, o.name]));
  room.offset = clockOffset(snapshot.server_time);
  room.polite = Boolean(snapshot.polite);
  room.iceServers = snapshot.ice_servers || [];
  chatLog.replaceChildren();
  room.chatSeqs.clear();
  for (const message of snapshot.chat || []) {
    addChat(message);
  }
  if (!notePending) {
    notes.value = (snapshot.note && snapshot.note.text) || "";
    if (snapshot.note && snapshot.note.by) {
      onNote(Object.assign({ text: notes.value }, snapshot.note));
    }
  }
  renderPresence();
  tick();
}

function onMessage(message) {
  switch (message.type) {
    case "snapshot":
      onSnapshot(message);
      break;
    case "chat":
      addChat(message);
      break;
    case "presence":
      onPresence(message);
      break;
    case "note":
      onNote(message);
      break;
    case "signal":
      if (isParticipant) {
        video.receive(message);
      }
      break;
    case "error":
      $("chat-error").textContent = message.reason || "";
      break;
    default:
      break;
  }
}

const socket = new LiveSocket(root.dataset.ws, {
  onMessage,
  onStatus: showConnection,
  onOpen: (resumed) => {
    if (notePending) {
      sendNote();
    }
    if (isParticipant) {
      video.hello();
      if (resumed) {
        video.resume();
      }
    }
  },
});

window.clockRoom = {
  get pc() {
    return video.pc;
  },
  socket,
  room,
  video,
};

// The socket does not wait for the camera: chat and presence work while the browser asks.
socket.start();
if (isParticipant) {
  video.mediaSettled = video.startMedia().catch(() => {});
}
window.setInterval(tick, 1000);
