// A participant's live dashboard: the current and next meeting with a countdown, a Join button
// that opens five minutes before the slot, the partner's presence, and announcements as they come.
// Everything comes from the event socket's snapshot and the messages after it.

import { LiveSocket, clockOffset, dayTimeIn, el, formatLeft, startsIn, timeIn } from "./live-socket.js";

const root = document.getElementById("live-dashboard");
const zone = root.dataset.zone;
const RESYNC_AT_MOST_EVERY_MS = 10000;

const PARTNER_WORDS = {
  joined: "is waiting in the room",
  reconnecting: "lost the connection and is reconnecting",
  left: "has left the room",
  absent: "has not arrived yet",
};

const live = { me: null, current: null, next: null, offset: 0, announcements: [], lastResync: 0 };

function now() {
  return Date.now() + live.offset;
}

function meetingBody(meeting, isCurrent) {
  if (!meeting) {
    return [el("p", { class: "meta" }, isCurrent ? "No meeting right now." : "No further meetings for you.")];
  }
  const partnerState = meeting.partner_state || "absent";
  return [
    el(
      "p",
      { class: "live-with" },
      el("strong", {}, meeting.partner),
      meeting.organisation ? " · " + meeting.organisation : "",
    ),
    el(
      "p",
      { class: "meta" },
      timeIn(meeting.starts_at, zone) +
        "–" +
        timeIn(meeting.ends_at, zone) +
        (meeting.table ? " · table " + meeting.table : ""),
    ),
    el("p", { class: "live-countdown", "data-field": "countdown" }),
    el(
      "p",
      { class: "live-partner", "data-state": partnerState, "data-field": "partner" },
      el("span", { class: "live-dot", "data-state": partnerState }),
      " Your partner " + (PARTNER_WORDS[partnerState] || partnerState) + ".",
    ),
    el("a", { class: "button live-join", "data-field": "join" }),
  ];
}

/** Countdown and Join button, updated in place every second (focus stays where it is). */
function updateClock(box, meeting) {
  if (!meeting) {
    return;
  }
  const t = now();
  const starts = Date.parse(meeting.starts_at);
  const ends = Date.parse(meeting.ends_at);
  const open = t >= Date.parse(meeting.join_opens_at) && t < ends;
  box.querySelector('[data-field="countdown"]').textContent =
    t < starts ? startsIn(starts - t, meeting.starts_at, zone) : t < ends ? "Ends in " + formatLeft(ends - t) : "Over";
  const join = box.querySelector('[data-field="join"]');
  const opensSoon = Date.parse(meeting.join_opens_at) - t < 24 * 60 * 60 * 1000;
  const label = open
    ? "Join"
    : t >= ends
      ? "Closed"
      : "Join (opens at " + (opensSoon ? timeIn : dayTimeIn)(meeting.join_opens_at, zone) + ")";
  if (join.textContent !== label) {
    join.textContent = label;
  }
  if (open) {
    join.setAttribute("href", meeting.room_url);
    join.removeAttribute("aria-disabled");
  } else {
    join.removeAttribute("href");
    join.setAttribute("aria-disabled", "true");
  }
}

function boxes() {
  return [
    [document.getElementById("live-current"), live.current, true],
    [document.getElementById("live-next"), live.next, false],
  ].filter(([box]) => box !== null);
}

function render() {
  for (const [box, meeting, isCurrent] of boxes()) {
    box.querySelector('[data-field="body"]').replaceChildren(...meetingBody(meeting, isCurrent));
    updateClock(box, meeting);
  }
}

function renderAnnouncements() {
  const list = document.getElementById("live-announcements");
  list.replaceChildren(
    ...live.announcements
      .slice()
      .reverse()
      .map((a) =>
        el(
          "li",
          { "data-seq": a.seq },
          el("p", {}, a.text),
          el(
            "p",
            { class: "meta" },
            (a.by ? a.by : "The organisers") + (a.cluster ? " to " + a.cluster : "") + (a.at ? " · " + timeIn(a.at, zone) : ""),
          ),
        ),
      ),
  );
  document.getElementById("no-announcements").hidden = live.announcements.length > 0;
}

function tick() {
  if (!live.me) {
    return;
  }
  const t = now();
  // The current meeting is over, or the next one has begun: ask the server for a fresh view.
  const stale =
    (live.current && t >= Date.parse(live.current.ends_at)) || (live.next && t >= Date.parse(live.next.starts_at));
  if (stale && Date.now() - live.lastResync > RESYNC_AT_MOST_EVERY_MS) {
    live.lastResync = Date.now();
    socket.resync();
    return;
  }
  for (const [box, meeting] of boxes()) {
    updateClock(box, meeting);
  }
}

function onMessage(message) {
  if (message.type === "snapshot") {
    live.me = message.me;
    live.current = message.current;
    live.next = message.next;
    live.offset = clockOffset(message.server_time);
    live.announcements = message.announcements || [];
    render();
    renderAnnouncements();
  } else if (message.type === "announcement") {
    if (!live.announcements.some((a) => a.seq === message.seq)) {
      live.announcements.push(message);
      renderAnnouncements();
    }
  } else if (message.type === "presence") {
    const who = message.who || {};
    if (!live.me || who.role === "organiser" || who.participant_id === live.me.participant_id) {
      return;
    }
    for (const meeting of [live.current, live.next]) {
      if (meeting && meeting.id === message.meeting_id) {
        meeting.partner_state = message.state;
      }
    }
    render();
  }
}

function onStatus(status, detail) {
  const line = document.getElementById("live-conn");
  line.dataset.state = status;
  line.textContent =
    status === "open"
      ? "Connected: this page updates by itself."
      : status === "closed"
        ? detail || "Disconnected."
        : status === "reconnecting"
          ? "Connection lost: reconnecting…"
          : "Connecting…";
}

const socket = new LiveSocket(root.dataset.ws, { onMessage, onStatus }).start();
window.setInterval(tick, 1000);
