/* Requests pages: export progress bars that follow the job, and the "next step" form showing the
   fields the chosen state needs. No framework; the server renders everything else. */
(function () {
  "use strict";

  function poll(row) {
    var url = row.getAttribute("data-sc-export-status");
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
              if (bar && data.status === "failed") bar.classList.add("bg-danger");
              if (bar && data.status === "ready") bar.classList.add("bg-info");
              if (reloadOn.indexOf(data.status) >= 0) window.location.reload();
            }
            status = data.status;
          }
        })
        .catch(function () { /* try again on the next tick */ });
    }, 1500);
  }

  function moveForm(form) {
    var select = form.querySelector("select[name=to]");
    function update() {
      form.querySelectorAll("[data-sc-for]").forEach(function (el) {
        el.hidden = el.getAttribute("data-sc-for").split(" ").indexOf(select.value) < 0;
      });
    }
    select.addEventListener("change", update);
    update();
  }

  // The search page: "from / until the frame on screen" copies the player's Vilnius clock into the field.
  function markButton(button) {
    button.addEventListener("click", function () {
      var clock = document.querySelector("[data-testid=player-clock]");
      var input = document.getElementById(button.getAttribute("data-sc-mark"));
      var match = clock && /(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(clock.textContent);
      if (input && match) input.value = match[1] + "T" + match[2];
    });
  }

  document.querySelectorAll("[data-sc-export-status]").forEach(poll);
  document.querySelectorAll("[data-sc-mark]").forEach(markButton);
  document.querySelectorAll("[data-sc-move]").forEach(moveForm);
})();
