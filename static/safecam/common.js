/* What the player (player.js) and the redaction editor (redaction.js) share: small DOM and text
   helpers, and the viewing session's heartbeat (the audit trail's "watched" ranges): both feed the wall-clock
   time of the frame on screen as it plays, and every 15 s post what was watched since the last beat;
   leaving the page sends a closing beat (a beacon). Ranges shorter than 0.2 s are dropped, at most 90
   are kept (the last one stretches), and ranges of a beat that failed go back for the next one. */
(function () {
  "use strict";

  var SECOND = 1000;

  function iso(ms) { return new Date(ms).toISOString(); }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
  function $(root, sel) { return root.querySelector(sel); }
  function $$(root, sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); }
  function el(tag, cls, attrs) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  /** A translated template with %(name)s placeholders, as Django writes them. */
  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, k) { return values[k] != null ? values[k] : ""; });
  }
  /** The page's translated strings: <... data-sc-strings><span data-k="key">text</span></...>. */
  function readStrings(root) {
    var out = {};
    $$(root, "[data-sc-strings] [data-k]").forEach(function (node) { out[node.getAttribute("data-k")] = node.textContent; });
    return out;
  }
  /** Whether a key press goes to a form field (shortcuts stay out of its way). */
  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function Watched() { this.ranges = []; this.last = null; }

  /** The frame at wall-clock ``ms`` is on screen; ``rate`` is the playback speed. */
  Watched.prototype.add = function (ms, rate) {
    var last = this.ranges[this.ranges.length - 1];
    var step = 3 * SECOND * Math.max(1, rate || 1);
    if (this.last != null && last && ms >= this.last && ms - this.last < step) {
      last[1] = ms;
    } else if (this.ranges.length < 90) {
      this.ranges.push([ms, ms]);
    } else {
      last[1] = Math.max(last[1], ms);
    }
    this.last = ms;
  };

  /** Playback stopped or jumped: the next frame starts a new range. */
  Watched.prototype.pause = function () { this.last = null; };

  Watched.prototype.clear = function () { this.ranges = []; this.last = null; };

  /** The ranges since the last beat; a range still growing carries on from its end. */
  Watched.prototype.take = function () {
    var ranges = this.ranges.filter(function (r) { return r[1] - r[0] >= 200; });
    var last = this.ranges[this.ranges.length - 1];
    this.ranges = last && this.last != null ? [[last[1], last[1]]] : [];
    return ranges;
  };

  Watched.prototype.restore = function (ranges) { this.ranges = ranges.concat(this.ranges); };

  function body(ranges, closing) {
    return JSON.stringify({ watched: ranges.map(function (r) { return [iso(r[0]), iso(r[1])]; }), closing: closing });
  }

  /** Post a beat; resolves with the response (ranges go back when it could not be delivered). */
  Watched.prototype.beat = function (url) {
    var self = this, ranges = this.take();
    return fetch(url, { method: "POST", credentials: "same-origin", keepalive: true,
                        headers: { "Content-Type": "application/json" }, body: body(ranges, false) })
      .then(function (r) { if (!r.ok && r.status >= 500) self.restore(ranges); return r; },
            function (error) { self.restore(ranges); throw error; });
  };

  /** The closing beat, by beacon when the page is going away. */
  Watched.prototype.close = function (url, unloading) {
    var payload = body(this.take(), true);
    this.clear();
    if (unloading && navigator.sendBeacon) {
      navigator.sendBeacon(url, new Blob([payload], { type: "application/json" }));
    } else {
      fetch(url, { method: "POST", credentials: "same-origin", keepalive: true,
                   headers: { "Content-Type": "application/json" }, body: payload }).catch(function () {});
    }
  };

  window.SafeCamCommon = { iso: iso, clamp: clamp, pad: pad, $: $, $$: $$, el: el, fmt: fmt,
                           readStrings: readStrings, typing: typing, Watched: Watched };
})();
