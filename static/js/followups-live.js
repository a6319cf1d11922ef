// Follow-up page: when the other party adds, completes or comments a task (a `followup` message
// on the event's live channel), say so and offer to reload, or reload at once when nothing is
// being typed on the page.

import { LiveSocket } from "./live-socket.js";

const root = document.getElementById("followups");
const notice = document.getElementById("followups-changed");

function typing() {
  return Array.from(document.querySelectorAll("input[type=text], textarea")).some(
    (field) => field.value.trim() !== "",
  );
}

function onMessage(message) {
  if (message.type !== "followup") {
    return;
  }
  if (!typing()) {
    window.location.reload();
    return;
  }
  notice.hidden = false;
}

if (root && notice) {
  new LiveSocket(root.dataset.ws, { onMessage }).start();
}
