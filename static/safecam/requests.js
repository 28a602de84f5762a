/* Requests pages: the "next step" form showing the fields the chosen state needs, and the search
   page's pin buttons. Export progress bars are jobs.js. No framework; the server renders the rest. */
(function () {
  "use strict";

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

  document.querySelectorAll("[data-sc-mark]").forEach(markButton);
  document.querySelectorAll("[data-sc-move]").forEach(moveForm);
})();
