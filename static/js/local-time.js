// Participant agenda: when the profile names no time zone of its own, show each meeting in the
// browser's zone too. Cells stay hidden (and the page complete) without JavaScript, or when the
// browser's zone is the event's.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  var times = document.querySelectorAll("time[datetime][data-event-zone]");
  if (!zone || times.length === 0 || times[0].getAttribute("data-event-zone") === zone) {
    return;
  }
  var day = new Intl.DateTimeFormat(undefined, { weekday: "short", timeZone: zone });
  var hm = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  times.forEach(function (el) {
    var start = new Date(el.getAttribute("datetime"));
    var end = new Date(el.getAttribute("data-end"));
    el.textContent = day.format(start) + " " + hm.format(start) + "\u2013" + hm.format(end);
    el.title = zone;
  });
  document.querySelectorAll(".browser-time[hidden]").forEach(function (cell) {
    if (cell.tagName === "TH") {
      cell.textContent = "Your time (" + zone + ")";
    }
    cell.hidden = false;
  });
})();
