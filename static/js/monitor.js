// The organisers' live monitor: every room of the current slot with its state and totals.
//
// The rooms come from GET /api/v1/events/{slug}/live/rooms. The event socket tells of every
// arrival and departure (`presence`); each one schedules a refetch, debounced so that a burst of
// arrivals at the start of a slot costs one request. A slow timer refetches too, since states
// also change with the clock (a no-show after five minutes, a held meeting at the end).
// The announcement form posts to the API; without JavaScript it posts to the page.

import { LiveSocket, el, formatLeft, timeIn } from "./live-socket.js";

const root = document.getElementById("live-monitor");
const zone = root.dataset.zone;
const REFETCH_DEBOUNCE_MS = 500;
const REFETCH_EVERY_MS = 30000;

const STATE_WORDS = {
  waiting_for_both: "Waiting for both",
  one_waiting: "One waiting",
  in_progress: "In progress",
  ended_early: "Ended early",
  no_show: "No-show",
  held: "Held",
};

let refetchTimer = null;
let inFlight = false;
let again = false;
const announcements = [];

async function refetch() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    const response = await fetch(root.dataset.roomsUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error("HTTP " + response.status);
    }
    render(await response.json());
    document.getElementById("monitor-updated").textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
  } catch (err) {
    document.getElementById("monitor-updated").textContent = "Could not update the rooms (" + err.message + ").";
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

function schedule() {
  window.clearTimeout(refetchTimer);
  refetchTimer = window.setTimeout(refetch, REFETCH_DEBOUNCE_MS);
}

function render(data) {
  const slot = data.slot;
  document.getElementById("monitor-slot").textContent = slot
    ? "· slot " + timeIn(slot.starts_at, zone) + "–" + timeIn(slot.ends_at, zone)
    : "· no slot left today";
  const totals = data.totals || {};
  const items = [el("li", {}, el("span", { class: "stat" }, String(totals.rooms || 0)), "rooms")];
  for (const [state, label] of Object.entries(STATE_WORDS)) {
    if (totals[state]) {
      items.push(el("li", { "data-state": state }, el("span", { class: "stat" }, String(totals[state])), label));
    }
  }
  document.getElementById("monitor-totals").replaceChildren(...items);
  const rows = (data.rooms || []).map((room) =>
    el(
      "tr",
      { "data-meeting-id": room.meeting_id, "data-state": room.state },
      el("td", {}, room.table === null ? "—" : String(room.table)),
      el(
        "td",
        {},
        ...room.parties.map((p) =>
          el(
            "div",
            { class: "live-party" },
            el("span", { class: "live-dot", "data-state": p.present ? "joined" : "absent" }),
            " ",
            el("strong", {}, p.name),
            p.organisation ? " · " + p.organisation : "",
            el("span", { class: "sr-only" }, p.present ? " (in the room)" : " (not in the room)"),
          ),
        ),
      ),
      el("td", {}, el("span", { class: "live-room-state", "data-state": room.state }, STATE_WORDS[room.state] || room.state)),
      el("td", {}, formatLeft(room.together_seconds * 1000)),
      el("td", {}, el("a", { class: "button small secondary", href: room.room_url }, "Join")),
    ),
  );
  if (rows.length === 0) {
    rows.push(el("tr", {}, el("td", { colspan: 5, class: "meta" }, "No meetings in this slot.")));
  }
  document.getElementById("monitor-rooms").replaceChildren(...rows);
}

function renderAnnouncements() {
  document.getElementById("live-announcements").replaceChildren(
    ...announcements
      .slice()
      .reverse()
      .map((a) =>
        el(
          "li",
          {},
          el("p", {}, a.text),
          el("p", { class: "meta" }, (a.cluster ? "To " + a.cluster : "To everyone") + (a.at ? " · " + timeIn(a.at, zone) : "")),
        ),
      ),
  );
}

function addAnnouncement(message) {
  if (!announcements.some((a) => a.seq === message.seq)) {
    announcements.push(message);
    renderAnnouncements();
  }
}

// ---------------------------------------------------------------- the announcement form

const form = document.getElementById("announce-form");

function showError(field, text) {
  const p = document.getElementById("e-" + field);
  const input = document.getElementById("f-" + field);
  if (!p || !input) {
    return;
  }
  p.textContent = text || "";
  p.hidden = !text;
  input.closest(".field").classList.toggle("has-error", Boolean(text));
  if (text) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", "e-" + field);
  } else {
    input.removeAttribute("aria-invalid");
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = document.getElementById("announce-result");
  const cluster = form.elements.cluster_id.value;
  const body = { text: form.elements.text.value, cluster_id: cluster ? Number(cluster) : null };
  showError("text", "");
  showError("cluster_id", "");
  result.replaceChildren();
  let response;
  try {
    response = await fetch(root.dataset.announceUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": form.elements._csrf_token.value,
      },
      body: JSON.stringify(body),
    });
  } catch (err) {
    result.replaceChildren(el("div", { class: "alert error" }, "Not sent: the server could not be reached."));
    return;
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 201) {
    form.elements.text.value = "";
    result.replaceChildren(el("div", { class: "alert success" }, "Announcement sent."));
    addAnnouncement(data);
    return;
  }
  const errors = data.errors || {};
  for (const [field, text] of Object.entries(errors)) {
    showError(field, text);
  }
  result.replaceChildren(el("div", { class: "alert error" }, data.detail || "Not sent."));
});

// ---------------------------------------------------------------- the event socket

function onMessage(message) {
  if (message.type === "snapshot") {
    for (const a of message.announcements || []) {
      addAnnouncement(a);
    }
    schedule();
  } else if (message.type === "presence") {
    schedule();
  } else if (message.type === "announcement") {
    addAnnouncement(message);
  }
}

function onStatus(status, detail) {
  const line = document.getElementById("live-conn");
  line.dataset.state = status;
  line.textContent =
    status === "open"
      ? "Connected: rooms update as people come and go."
      : status === "closed"
        ? detail || "Disconnected."
        : status === "reconnecting"
          ? "Connection lost: reconnecting…"
          : "Connecting…";
}

new LiveSocket(root.dataset.ws, { onMessage, onStatus, onOpen: schedule }).start();
refetch();
window.setInterval(refetch, REFETCH_EVERY_MS);
