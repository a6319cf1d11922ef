// Live progress of an agenda build: poll the run every second and update the numbers;
// once the build ends, reload so the server renders statistics and the change list.
(function () {
  "use strict";
  var box = document.getElementById("run-status");
  if (!box || box.getAttribute("data-active") !== "yes") {
    return;
  }
  var url = box.getAttribute("data-run-url");

  function show(name, value) {
    var el = box.querySelector('[data-field="' + name + '"]');
    if (el && value !== undefined && value !== null) {
      el.textContent = String(value);
    }
  }

  function tick() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (run) {
        var progress = run.progress || {};
        show("status", run.status);
        show("phase", progress.phase);
        show("elapsed", progress.elapsed);
        show("weight", progress.weight);
        show("breaks", progress.breaks);
        if (run.status !== "queued" && run.status !== "running") {
          window.location.reload();
          return;
        }
        window.setTimeout(tick, 1000);
      })
      .catch(function () {
        // A network hiccup: try again a little later; the Refresh link still works.
        window.setTimeout(tick, 3000);
      });
  }

  window.setTimeout(tick, 1000);
})();
