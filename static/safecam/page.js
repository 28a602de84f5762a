/* What every page needs, without inline script or style (the Content-Security-Policy allows
   neither): bar widths and heights given as data attributes (`data-sc-width="42.5"`, a percentage;
   `data-sc-left`), print buttons (`data-sc-print`), and a select that shows only the options of the
   place chosen in another (`data-sc-filter-by="id of the place select"`: the server checks again). */
(function () {
  "use strict";

  function each(sel, fn) { Array.prototype.forEach.call(document.querySelectorAll(sel), fn); }
  function pct(value) { var n = parseFloat(value); return isFinite(n) ? Math.max(0, Math.min(100, n)) + "%" : null; }

  function apply(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("[data-sc-width],[data-sc-left]"), function (node) {
      var w = pct(node.getAttribute("data-sc-width")), l = pct(node.getAttribute("data-sc-left"));
      if (w !== null) node.style.width = w;
      if (l !== null) node.style.left = l;
    });
  }

  function filterBy(camera) {
    var site = document.getElementById(camera.getAttribute("data-sc-filter-by"));
    if (!site) return;
    function filter() {
      var name = site.value ? site.options[site.selectedIndex].text : null;
      Array.prototype.forEach.call(camera.querySelectorAll("optgroup"), function (group) {
        var show = !name || group.label === name;
        group.hidden = !show; group.disabled = !show;
        if (!show && group.contains(camera.options[camera.selectedIndex])) camera.value = "";
      });
    }
    site.addEventListener("change", filter); filter();
  }

  function start() {
    apply(document);
    each("[data-sc-print]", function (b) { b.addEventListener("click", function () { window.print(); }); });
    each("select[data-sc-filter-by]", filterBy);
  }

  window.SafeCamPage = { apply: apply };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
