/* Progress bars of long jobs (exports, reports): each element with data-sc-job-status="<JSON URL>"
   polls it every 1.5 s while the job is queued or running, moves its bar, shows the stage and any
   error, and reloads the page when the job reaches a state listed in data-reload-on. The URL
   answers {status, status_label, progress (0–1), stage, error}. */
(function () {
  "use strict";

  function poll(row) {
    var url = row.getAttribute("data-sc-job-status");
    var reloadOn = (row.getAttribute("data-reload-on") || "").split(" ");
    var status = row.getAttribute("data-status");
    if (["queued", "running", "packaging"].indexOf(status) < 0) return;
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          var bar = row.querySelector("[data-sc=bar]");
          var pct = Math.round((data.progress || 0) * 100);
          if (bar) { bar.style.width = pct + "%"; bar.parentNode.setAttribute("aria-valuenow", pct); }
          var label = row.querySelector("[data-sc=status-label]");
          if (label) label.textContent = data.status_label;
          var stage = row.querySelector("[data-sc=stage]");
          if (stage) stage.textContent = data.stage || "";
          var error = row.querySelector("[data-sc=error]");
          if (error && data.error) { error.textContent = data.error; error.hidden = false; }
          if (data.status !== status) {
            row.setAttribute("data-status", data.status);
            if (["ready", "done", "failed"].indexOf(data.status) >= 0) {
              clearInterval(timer);
              if (bar) bar.classList.remove("progress-bar-striped", "progress-bar-animated");
              if (bar && data.status === "done") bar.classList.add("bg-success");
              if (bar && data.status === "failed") { bar.classList.add("bg-danger"); bar.style.width = "100%"; }
              if (bar && data.status === "ready") bar.classList.add("bg-info");
              if (reloadOn.indexOf(data.status) >= 0) window.location.reload();
            }
            status = data.status;
          }
        })
        .catch(function () { /* try again on the next tick */ });
    }, 1500);
  }

  document.querySelectorAll("[data-sc-job-status]").forEach(poll);
})();
