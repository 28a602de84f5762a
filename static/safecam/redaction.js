/* SafeCam redaction editor: the DPO marks what to hide on a range of footage attached to a request,
 * checks frames against the server's own rendering, and asks for the export.
 *
 * One file, no build step, like player.js. Reads #sc-redaction-config
 * (access_requests.views.redaction_editor) and the strings in [data-sc-strings], and produces the
 * spec of access_requests/redaction.py:
 *   {"mode": "regions" | "all_except",
 *    "regions": [{"effect": "blur" | "black", "keyframes": [{"t", "x", "y", "w", "h"}, ...]}]}
 * t is seconds from the start of the attached range (config.start); x, y, w, h are fractions of the
 * frame, 4 decimals. The boxes on screen follow the server's rules (redaction._pieces): between two
 * keyframes x and y move linearly and the size is the larger of the two; a region with several
 * keyframes ends at its last one; a region with one keyframe lasts to the end of the clip.
 *
 * Time: the playlist names every segment's wall-clock start (EXT-X-PROGRAM-DATE-TIME) and its first
 * segment usually starts before config.start, so media time is mapped to wall-clock time segment by
 * segment, as player.js does, and t = wall clock - config.start. Two details keep t on the frame the
 * server renders: a segment's wall-clock start is its first *picture* (hls.js puts the first decoding
 * timestamp at the fragment's start, so with B-frames the first picture comes a few frames later:
 * frag.startPTS), and when paused, t is the time of the frame on screen (requestVideoFrameCallback),
 * not the playhead, which lies somewhere inside that frame's duration.
 *
 * Defines window.SafeCam.Redaction = {boxAt, specOf, editor}.
 */
(function (global) {
  "use strict";

  var SECOND = 1000;
  var BEAT_MS = 15 * SECOND;
  var SAME_T = 0.01;       // seconds: a keyframe this close to the frame on screen is the one "here"
  // Seconds by which the spec's first and last keyframe times are rounded outwards (and a preview's
  // moment back), so that timestamps truncated to milliseconds on the way (the playlist's program
  // dates, config.start) never leave the frame a keyframe was set on outside the region's span.
  var EDGE = 0.003;
  var SEEK_INTO = 0.002;   // a seek lands this far into the frame wanted, so that frame is the one shown
  var FRAME_WAIT = 150;    // ms after a seek within which the frame it shows is expected on screen
  var MIN_SIZE = 0.01;     // the smallest side of a box, as a fraction of the frame
  var MIN_DRAW_PX = 6;     // a shorter drag is a click, not a box
  var NUDGE = 0.01;        // Alt+arrow moves the selected box by this fraction of the frame
  var HISTORY = 100;
  var PALETTE = ["#ff3b5c", "#3ba9ff", "#ffd43b", "#40c057", "#cc5de8", "#ff922b", "#20c997", "#f783ac"];
  var HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
  var Hls = global.Hls;

  // --- small helpers ----------------------------------------------------------------------------

  var common = window.SafeCamCommon;  // common.js: helpers shared with the other SafeCam scripts
  var iso = common.iso, clamp = common.clamp, pad = common.pad, $ = common.$, $$ = common.$$, el = common.el,
      fmt = common.fmt, readStrings = common.readStrings, typing = common.typing;
  function r3(v) { return Math.round(v * 1000) / 1000; }
  function floor3(v) { return Math.floor(v * 1000 + 1e-6) / 1000; }
  function ceil3(v) { return Math.ceil(v * 1000 - 1e-6) / 1000; }
  function r4(v) { return Math.round(v * 10000) / 10000; }
  function pct(v) { return (Math.round(v * 1000) / 10).toString(); }
  function copy(value) { return JSON.parse(JSON.stringify(value)); }

  /** The project's JSON errors ({"detail": ..., "errors": {field: [messages]}}) as one line. */
  function errorText(data) {
    if (data == null) return "";
    if (typeof data === "string") return data;
    if (Array.isArray(data)) return data.map(errorText).join(" ");
    if (typeof data === "object") {
      if (data.errors) return errorText(data.errors);
      return Object.keys(data).map(function (k) { return errorText(data[k]); }).join(" ");
    }
    return String(data);
  }

  /** A failed response's message: the JSON error format, or the start of whatever else came back. */
  function responseProblem(response) {
    return response.text().then(function (text) {
      var data;
      try { data = JSON.parse(text); } catch (e) { data = null; }
      var message = data ? errorText(data) : "";
      return message || ("HTTP " + response.status + (text ? ": " + text.slice(0, 200) : ""));
    });
  }

  // --- wall-clock time in the configured zone -----------------------------------------------------

  function Clock(timeZone, locale) {
    this.format_ = new Intl.DateTimeFormat(locale, {
      timeZone: timeZone || "Europe/Vilnius", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  Clock.prototype.parts = function (ms) {
    var out = {};
    this.format_.formatToParts(new Date(ms)).forEach(function (p) {
      if (p.type !== "literal") out[p.type] = parseInt(p.value, 10);
    });
    if (out.hour === 24) out.hour = 0;
    return out;
  };
  /** "HH:MM:SS.d", with the date first when ``withDate``. */
  Clock.prototype.text = function (ms, withDate) {
    ms = Math.round(ms);
    var p = this.parts(ms), tenth = Math.floor((((ms % SECOND) + SECOND) % SECOND) / 100);
    var time = pad(p.hour) + ":" + pad(p.minute) + ":" + pad(p.second) + "." + tenth;
    return withDate ? p.year + "-" + pad(p.month) + "-" + pad(p.day) + " " + time : time;
  };

  // --- the model: regions and keyframes, and the spec the server takes ---------------------------

  /** A box inside the frame, no side under MIN_SIZE, rounded to 4 decimals as the server expects. */
  function boxFit(box) {
    var w = clamp(box.w, MIN_SIZE, 1), h = clamp(box.h, MIN_SIZE, 1);
    var out = { x: r4(clamp(box.x, 0, 1 - w)), y: r4(clamp(box.y, 0, 1 - h)), w: r4(w), h: r4(h) };
    if (out.x + out.w > 1) out.w = Math.floor((1 - out.x) * 10000) / 10000;
    if (out.y + out.h > 1) out.h = Math.floor((1 - out.y) * 10000) / 10000;
    return out;
  }

  /** Index of the region's keyframe at ``t`` (within SAME_T), or -1. */
  function keyIndex(region, t) {
    var best = -1, gap = SAME_T;
    region.keyframes.forEach(function (k, i) {
      var d = Math.abs(k.t - t);
      if (d < gap) { best = i; gap = d; }
    });
    return best;
  }

  /** The region's box at clip time ``t`` as the server draws it ({x, y, w, h, key}: key is the index
   *  of the keyframe here, whose own box is shown, or -1), or null when the region is off. */
  function boxAt(region, t) {
    var k = region.keyframes, n = k.length;
    if (!n || t < k[0].t - SAME_T) return null;
    var here = keyIndex(region, t);
    if (here >= 0) return { x: k[here].x, y: k[here].y, w: k[here].w, h: k[here].h, key: here };
    if (n === 1) return { x: k[0].x, y: k[0].y, w: k[0].w, h: k[0].h, key: -1 };
    if (t > k[n - 1].t) return null;
    var i = 0;
    while (i < n - 2 && k[i + 1].t <= t) i += 1;
    var a = k[i], b = k[i + 1], f = (t - a.t) / (b.t - a.t);
    var w = Math.max(a.w, b.w), h = Math.max(a.h, b.h);
    return { x: clamp(a.x + (b.x - a.x) * f, 0, 1 - w), y: clamp(a.y + (b.y - a.y) * f, 0, 1 - h), w: w, h: h, key: -1 };
  }

  /** When the region is on: [from, to], ``to`` null for "to the end of the clip". */
  function spanOf(region) {
    var k = region.keyframes;
    return { from: k[0].t, to: k.length > 1 ? k[k.length - 1].t : null };
  }

  /** The keyframes that draw the same boxes on a clip cut at [from, to): one at ``from`` where the
   *  region is already moving there (its size the larger of its neighbours', as the server's would
   *  be), those inside, and the first one after ``to`` so the motion up to ``to`` stays the same. */
  function clipFrames(k, from, to) {
    var n = k.length, out = [];
    if (n === 1) return k[0].t < to ? [{ t: Math.max(k[0].t, from), x: k[0].x, y: k[0].y, w: k[0].w, h: k[0].h }] : [];
    if (k[n - 1].t <= from || k[0].t >= to) return [];
    var next = 0;
    while (k[next].t < from) next += 1;
    if (next > 0 && k[next].t - from >= 0.001) {
      var a = k[next - 1], b = k[next], f = (from - a.t) / (b.t - a.t);
      var w = Math.max(a.w, b.w), h = Math.max(a.h, b.h);
      out.push(boxFit({ x: Math.min(a.x + (b.x - a.x) * f, 1 - w), y: Math.min(a.y + (b.y - a.y) * f, 1 - h),
                        w: w, h: h }));
      out[0].t = from;
    }
    for (var i = next; i < n; i += 1) {
      out.push(k[i]);
      if (k[i].t >= to) break;
    }
    return out;
  }

  /** The spec for the server: the whole range, or the part [from, to] with times counted from ``from``
   *  (the export's t starts with the exported clip). */
  function specOf(model, from, to) {
    from = from || 0;
    var partial = from > 0 || to != null;
    var regions = [];
    model.regions.forEach(function (region) {
      var frames = partial ? clipFrames(region.keyframes, from, to == null ? Infinity : to) : region.keyframes;
      if (!frames.length) return;
      var last = frames.length - 1, previous = -1;
      regions.push({
        effect: model.mode === "all_except" ? "blur" : region.effect,
        keyframes: frames.map(function (k, i) {
          var t = k.t - from;
          t = i === 0 ? floor3(t - EDGE) : i === last ? ceil3(t + EDGE) : r3(t);
          t = Math.max(0, t, r3(previous + 0.001));
          previous = t;
          return { t: t, x: r4(k.x), y: r4(k.y), w: r4(k.w), h: r4(k.h) };
        })
      });
    });
    return { mode: model.mode, regions: regions };
  }

  // --- the editor ---------------------------------------------------------------------------------

  function Editor(root, config, strings) {
    this.root = root;
    this.config = config;
    this.s = strings;
    this.startMs = Date.parse(config.start);
    this.duration = Math.max(0, Number(config.duration) || 0);
    var lang = (document.documentElement.lang || "lt").toLowerCase();
    this.clock = new Clock(config.time_zone, lang === "en" ? "en-GB" : lang === "lt" ? "lt-LT" : lang);
    this.video = $(root, "[data-sc=video]");
    this.stage = $(root, "[data-sc=stage]");
    this.layer = $(root, "[data-sc=layer]");
    this.scrubber = $(root, "[data-sc=scrubber]");
    this.model = { mode: "regions", regions: [], next: 1 };
    this.selected = null;       // id of the selected region
    this.undoStack = [];
    this.redoStack = [];
    this.lastMerge = null;
    this.dirty = false;         // regions the DPO has not exported yet
    this.leaving = false;
    this.drag = null;
    this.boxes = {};            // region id -> its box on the layer
    this.frags = null;          // the playlist's segments: [{start, duration, programDateTime}]
    this.hls = null;
    this.t = 0;
    this.shownT = null;
    this.started = false;
    this.frame = null;          // the frame last put on screen: {media: its time, at: the playhead then}
    this.seekedAt = 0;          // performance.now() of the last completed seek
    this.scrubbing = false;
    this.part = { on: false, from: 0, to: this.duration };
    this.expired = false;
    this.watched = new common.Watched();
    this.beatTimer = null;
    this.previewUrl = null;
    this.draftKey = "safecam.redaction." + config.footage;
  }

  Editor.prototype.start = function () {
    var self = this;
    this.restoreDraft();
    this.bind();
    this.layout();
    this.load();
    this.beatTimer = setInterval(function () { self.beat(); }, BEAT_MS);
    global.addEventListener("pagehide", function () { self.closeSession(true); });
    // Back from the browser's page cache, the viewing session is closed: start afresh (the draft stays).
    global.addEventListener("pageshow", function (event) { if (event.persisted) global.location.reload(); });
    global.addEventListener("beforeunload", function (event) {
      if (!self.dirty || self.leaving) return;
      event.preventDefault();
      event.returnValue = self.s.unsaved;  // older browsers show it; current ones show their own text
      return self.s.unsaved;
    });
    $(this.root, "[data-sc=range-start]").textContent = this.clock.text(this.startMs, true);
    $(this.root, "[data-sc=range-end]").textContent = this.clock.text(this.startMs + this.duration * SECOND, false);
    this.scrubber.max = String(this.duration);
    this.renderAll();
    var loop = function () { self.tick(); global.requestAnimationFrame(loop); };
    global.requestAnimationFrame(loop);
  };

  // --- the video: hls.js (or the browser's own HLS), and media time <-> clip time ---------------

  Editor.prototype.load = function () {
    var self = this, video = this.video, url = this.config.playlist;
    this.state(this.s.loading, true);
    video.addEventListener("loadeddata", function () {
      self.state(null);
      self.layout();
      // The first fragment is parsed now: its first picture's media time is known, so go to t again.
      if (!self.started) { self.started = true; self.seek(self.t); } else self.redraw();
    });
    if (video.requestVideoFrameCallback) {
      var onFrame = function (now, meta) {
        self.frame = { media: meta.mediaTime, at: video.currentTime };
        if (video.paused && !self.drag) self.redraw();
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
    video.addEventListener("loadedmetadata", function () { self.layout(); });
    video.addEventListener("resize", function () { self.layout(); });
    video.addEventListener("timeupdate", function () { self.track(); });
    video.addEventListener("pause", function () { self.track(); self.watched.pause(); self.playButton(); });
    video.addEventListener("play", function () { self.playButton(); });
    video.addEventListener("waiting", function () { if (!self.expired) self.state("", true); });
    video.addEventListener("playing", function () { if (!self.expired) self.state(null); });
    video.addEventListener("seeked", function () {
      self.seekedAt = global.performance.now();
      if (!self.expired && video.readyState >= 2) self.state(null);
      self.redraw();
      setTimeout(function () { if (video.paused && !self.drag) self.redraw(); }, FRAME_WAIT + 20);
    });
    if (Hls && Hls.isSupported()) {
      var hls = new Hls({ autoStartLoad: false, startFragPrefetch: true, testBandwidth: false, enableWorker: true,
                          maxBufferLength: 20, maxMaxBufferLength: 60, backBufferLength: 120, maxBufferHole: 0.5,
                          startOnSegmentBoundary: false });
      var started = false, recoveries = 0;
      this.hls = hls;
      hls.on(Hls.Events.LEVEL_LOADED, function (event, data) {
        self.frags = data.details.fragments;
        if (!self.frags.length) { self.fail(self.s.noFootage); return; }
        if (!started) { started = true; hls.startLoad(self.positionFor(0)); }
        self.redraw();
      });
      hls.on(Hls.Events.FRAG_BUFFERED, function () { recoveries = 0; });
      hls.on(Hls.Events.ERROR, function (event, data) {
        var code = data.response && data.response.code, details = data.details || "";
        if (code === 410) { self.sessionEnded(); return; }
        if (details === "levelEmptyError" || (details === "manifestParsingError" &&
            /no (EXTINF|fragments)|empty/i.test(String(data.reason || (data.error && data.error.message) || "")))) {
          self.fail(self.s.noFootage);
          return;
        }
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR && (code === 403 || code === 404)) {
          self.fail(self.s.notAllowed);
        } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && recoveries < 2) {
          recoveries += 1;
          hls.recoverMediaError();
        } else {
          self.fail(self.s.error);
        }
      });
      hls.attachMedia(video);
      hls.loadSource(url);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.status === 410) throw { expired: true };
        if (!response.ok) throw { message: self.s.notAllowed };
        return response.text();
      }).then(function (text) {
        self.frags = parsePlaylist(text);
        if (!self.frags.length) { self.fail(self.s.noFootage); return; }
        video.addEventListener("loadedmetadata", function once() {
          video.removeEventListener("loadedmetadata", once);
          video.currentTime = self.positionFor(0);
        });
        video.src = url;
      }).catch(function (problem) {
        if (problem && problem.expired) self.sessionEnded();
        else self.fail((problem && problem.message) || self.s.error);
      });
    } else {
      this.fail(this.s.unsupported);
    }
  };

  /** The segments of an HLS playlist with their media start and wall-clock start (for native HLS). */
  function parsePlaylist(text) {
    var frags = [], pdt = null, cursor = 0;
    text.split(/\r?\n/).forEach(function (line) {
      if (line.indexOf("#EXT-X-PROGRAM-DATE-TIME:") === 0) pdt = Date.parse(line.slice(25));
      else if (line.indexOf("#EXTINF:") === 0) {
        var duration = parseFloat(line.slice(8));
        frags.push({ start: cursor, duration: duration, programDateTime: pdt });
        cursor += duration;
        pdt = null;
      }
    });
    return frags;
  }

  /** Media time of a fragment's first picture (hls.js knows it once the fragment is parsed). */
  function fragStart(frag) { return frag.startPTS != null && isFinite(frag.startPTS) ? frag.startPTS : frag.start; }

  /** The fragment holding media time ``position``. */
  Editor.prototype.fragAt = function (position) {
    var f = this.frags, frag = f[0];
    for (var i = 1; i < f.length && fragStart(f[i]) <= position + 0.001; i += 1) frag = f[i];
    return frag;
  };

  /** Media position showing clip time ``t`` (in a gap of the recording: the next footage). */
  Editor.prototype.positionFor = function (t) {
    var f = this.frags;
    if (!f || !f.length) return 0;
    var ms = this.startMs + t * SECOND;
    for (var i = 0; i < f.length; i += 1) {
      var frag = f[i];
      if (frag.programDateTime == null) continue;
      if (frag.programDateTime + frag.duration * SECOND > ms) {
        var into = Math.max(0, (ms - frag.programDateTime) / SECOND);
        return fragStart(frag) + Math.min(into, Math.max(0, frag.duration - 0.05));
      }
    }
    var last = f[f.length - 1];
    return fragStart(last) + Math.max(0, last.duration - 0.05);
  };

  /** Clip time of media time ``position``: seconds from config.start, through the segment's wall clock. */
  Editor.prototype.clipTimeOf = function (position) {
    var f = this.frags;
    if (!f || !f.length) return this.t;
    var frag = this.fragAt(position);
    if (frag.programDateTime == null) return position - fragStart(f[0]);
    var wall = frag.programDateTime + clamp(position - fragStart(frag), 0, frag.duration) * SECOND;
    return (wall - this.startMs) / SECOND;
  };

  /** The frame shown, if it is the one at the playhead (at most a second before it: CCTV's slowest rate). */
  Editor.prototype.frameShown = function () {
    var v = this.video, frame = this.frame;
    return frame && frame.media <= v.currentTime + 0.001 && v.currentTime - frame.media < 1 ? frame : null;
  };

  /** Media time of what is on screen: when paused, the frame shown; else the playhead. After a seek
   *  the frame on screen is the one put there for that seek, or, when none came within FRAME_WAIT, the
   *  one that was there (the seek stayed within it). */
  Editor.prototype.position = function () {
    var v = this.video, frame = this.frameShown();
    if (v.paused && !v.seeking && frame &&
        (frame.at === v.currentTime || global.performance.now() - this.seekedAt > FRAME_WAIT)) {
      return frame.media;
    }
    return v.currentTime;
  };

  Editor.prototype.clipTime = function () { return this.clipTimeOf(this.position()); };

  Editor.prototype.now = function () { return clamp(this.clipTime(), 0, this.duration); };

  Editor.prototype.seek = function (t) {
    t = clamp(t, 0, this.duration);
    this.t = t;
    if (this.frags) this.video.currentTime = this.positionFor(t) + SEEK_INTO;
    this.redraw();
  };

  Editor.prototype.step = function (seconds) {
    this.pause();
    this.seek(this.now() + seconds);
  };

  Editor.prototype.play = function () {
    if (!this.frags || this.expired) return;
    if (this.now() >= this.duration - 0.05) this.seek(0);
    var promise = this.video.play();
    if (promise && promise.catch) promise.catch(function () { /* paused again before it started */ });
  };

  Editor.prototype.pause = function () {
    var v = this.video;
    if (!v.paused) {
      v.pause();
      // Stop on the frame on screen, not somewhere inside its duration (a box drawn now is keyed on it).
      var frame = this.frameShown();
      if (frame) v.currentTime = frame.media + SEEK_INTO;
    }
    this.t = this.now();
  };

  Editor.prototype.toggle = function () { if (this.video.paused) this.play(); else this.pause(); };

  Editor.prototype.playButton = function () {
    var button = $(this.root, "[data-sc=play]"), playing = !this.video.paused;
    button.setAttribute("aria-pressed", playing ? "true" : "false");
    button.setAttribute("aria-label", playing ? this.s.pause : this.s.play);
    button.title = (playing ? this.s.pause : this.s.play) + " (Space)";
    button.innerHTML = playing ? '<i class="bi bi-pause-fill"></i>' : '<i class="bi bi-play-fill"></i>';
  };

  /** The message over the picture (null hides it); ``busy`` adds the spinner. */
  Editor.prototype.state = function (text, busy) {
    var box = $(this.root, "[data-sc=state]");
    if (text == null) { box.hidden = true; return; }
    box.hidden = false;
    $(box, "[data-sc=spinner]").hidden = !busy;
    $(box, "[data-sc=state-text]").textContent = text;
  };

  Editor.prototype.fail = function (message) {
    if (this.hls) { try { this.hls.destroy(); } catch (e) { /* gone already */ } this.hls = null; }
    this.state(message, false);
  };

  Editor.prototype.sessionEnded = function () {
    if (this.expired) return;
    this.expired = true;
    clearInterval(this.beatTimer);
    this.pause();
    this.fail(this.s.expired);
  };

  /** The overlay exactly over the picture (the video is letterboxed inside the stage). */
  Editor.prototype.layout = function () {
    var video = this.video, vw = video.videoWidth || 16, vh = video.videoHeight || 9;
    if (video.videoWidth) this.stage.style.aspectRatio = vw + " / " + vh;
    var cw = this.stage.clientWidth, ch = this.stage.clientHeight;
    if (!cw || !ch) return;
    var scale = Math.min(cw / vw, ch / vh), w = vw * scale, h = vh * scale;
    this.layer.style.left = (cw - w) / 2 + "px";
    this.layer.style.top = (ch - h) / 2 + "px";
    this.layer.style.width = w + "px";
    this.layer.style.height = h + "px";
  };

  // --- the viewing session's heartbeat (as player.js sends it) -----------------------------------

  Editor.prototype.track = function () {
    var v = this.video;
    if (v.paused || v.seeking || v.readyState < 2 || !this.frags) { this.watched.pause(); return; }
    this.watched.add(this.startMs + this.clipTime() * SECOND, v.playbackRate);
  };

  Editor.prototype.beat = function () {
    var self = this;
    if (this.expired || !this.config.beat) return;
    this.watched.beat(this.config.beat)
      .then(function (r) { if (r.status === 410) self.sessionEnded(); })
      .catch(function () {});
  };

  /** End the viewing session with the last ranges watched (by beacon when the page goes away). */
  Editor.prototype.closeSession = function (unloading) {
    if (this.expired || !this.config.beat) return;
    this.track();
    this.expired = true;
    clearInterval(this.beatTimer);
    this.watched.close(this.config.beat, unloading);
  };

  // --- changes, history, the draft kept in this tab ---------------------------------------------

  Editor.prototype.region = function (id) {
    for (var i = 0; i < this.model.regions.length; i += 1) if (this.model.regions[i].id === id) return this.model.regions[i];
    return null;
  };

  /** Apply ``fn`` to the model with an undo step (consecutive changes with the same ``merge`` key
   *  within a second and a half make one step: a run of nudges). */
  Editor.prototype.change = function (fn, merge) {
    var stamp = Date.now();
    if (!merge || !this.lastMerge || this.lastMerge.key !== merge || stamp - this.lastMerge.at > 1500) {
      this.undoStack.push({ model: copy(this.model), selected: this.selected });
      if (this.undoStack.length > HISTORY) this.undoStack.shift();
    }
    this.lastMerge = merge ? { key: merge, at: stamp } : null;
    this.redoStack = [];
    fn.call(this);
    this.changed();
  };

  Editor.prototype.changed = function () {
    this.dirty = this.model.regions.length > 0 || this.model.mode !== "regions";
    this.saveDraft();
    this.renderAll();
  };

  Editor.prototype.undo = function (redo) {
    var from = redo ? this.redoStack : this.undoStack, to = redo ? this.undoStack : this.redoStack;
    var step = from.pop();
    if (!step) return;
    to.push({ model: copy(this.model), selected: this.selected });
    this.model = step.model;
    this.selected = this.region(step.selected) ? step.selected : null;
    this.lastMerge = null;
    this.changed();
  };

  Editor.prototype.saveDraft = function () {
    try {
      if (this.dirty) global.sessionStorage.setItem(this.draftKey, JSON.stringify({ model: this.model }));
      else global.sessionStorage.removeItem(this.draftKey);
    } catch (e) { /* storage off or full: the beforeunload warning still guards the work */ }
  };

  Editor.prototype.restoreDraft = function () {
    var saved = null;
    try { saved = JSON.parse(global.sessionStorage.getItem(this.draftKey) || "null"); } catch (e) { saved = null; }
    var model = saved && saved.model, number = function (v) { return typeof v === "number" && isFinite(v); };
    var sound = model && (model.mode === "regions" || model.mode === "all_except") && number(model.next) &&
      Array.isArray(model.regions) && model.regions.every(function (r) {
        return r && number(r.id) && Array.isArray(r.keyframes) && r.keyframes.length > 0 &&
          r.keyframes.every(function (k) { return k && number(k.t) && number(k.x) && number(k.y) && number(k.w) && number(k.h); });
      });
    if (!sound) return;
    this.model = model;
    this.dirty = this.model.regions.length > 0 || this.model.mode !== "regions";
    if (this.dirty) this.notice(this.s.restored);
  };

  Editor.prototype.notice = function (text) {
    var box = $(this.root, "[data-sc=notice]");
    box.textContent = text;
    box.hidden = !text;
  };

  Editor.prototype.say = function (text) { $(this.root, "[data-sc=busy]").textContent = text || ""; };

  // --- editing actions -----------------------------------------------------------------------------

  Editor.prototype.select = function (id) {
    this.selected = id != null && this.region(id) ? id : null;
    this.renderAll();
  };

  Editor.prototype.addRegion = function (box, t) {
    var region;
    this.change(function () {
      var n = this.model.next;
      this.model.next = n + 1;
      var fitted = boxFit(box);
      region = { id: n, n: n, effect: "blur", colour: PALETTE[(n - 1) % PALETTE.length],
                 keyframes: [{ t: clamp(t, 0, this.duration), x: fitted.x, y: fitted.y, w: fitted.w, h: fitted.h }] };
      this.model.regions.push(region);
      this.selected = n;
    });
    this.say(fmt(this.s.created, { name: this.name(region), time: this.clock.text(this.startMs + t * SECOND) }));
    return region;
  };

  /** Set the box of region ``id`` at ``t``: the keyframe there is moved, or a new one is added. */
  Editor.prototype.setKeyframe = function (id, t, box, merge) {
    var region = this.region(id);
    if (!region) return;
    t = clamp(t, 0, this.duration);
    this.change(function () {
      var fitted = boxFit(box), at = keyIndex(region, t);
      if (at >= 0) {
        region.keyframes[at].x = fitted.x; region.keyframes[at].y = fitted.y;
        region.keyframes[at].w = fitted.w; region.keyframes[at].h = fitted.h;
      } else {
        region.keyframes.push({ t: t, x: fitted.x, y: fitted.y, w: fitted.w, h: fitted.h });
        region.keyframes.sort(function (a, b) { return a.t - b.t; });
      }
    }, merge);
    this.say(fmt(this.s.keyed, { name: this.name(region), time: this.clock.text(this.startMs + t * SECOND) }));
  };

  /** "Keyframe here": the box the region shows now, or (outside its span) its nearest keyframe's. */
  Editor.prototype.keyframeHere = function () {
    var region = this.region(this.selected);
    if (!region) return;
    this.pause();
    var t = this.now(), box = boxAt(region, t), k = region.keyframes;
    if (!box) box = t < k[0].t ? k[0] : k[k.length - 1];
    this.setKeyframe(region.id, t, box);
  };

  Editor.prototype.deleteKeyframe = function () {
    var region = this.region(this.selected);
    if (!region) return false;
    var at = keyIndex(region, this.now());
    if (at < 0) return false;
    if (region.keyframes.length === 1) { this.deleteRegion(region.id); return true; }
    this.change(function () { region.keyframes.splice(at, 1); });
    return true;
  };

  Editor.prototype.deleteRegion = function (id) {
    if (!this.region(id)) return;
    this.change(function () {
      this.model.regions = this.model.regions.filter(function (r) { return r.id !== id; });
      if (this.selected === id) this.selected = null;
    });
  };

  /** Go to the selected region's previous/next keyframe (every region's, when none is selected). */
  Editor.prototype.jumpKeyframe = function (direction) {
    var t = this.now(), region = this.region(this.selected), times = [];
    (region ? [region] : this.model.regions).forEach(function (r) { r.keyframes.forEach(function (k) { times.push(k.t); }); });
    times.sort(function (a, b) { return a - b; });
    var target = null;
    if (direction < 0) times.forEach(function (v) { if (v < t - SAME_T / 2) target = v; });
    else for (var i = 0; i < times.length; i += 1) if (times[i] > t + SAME_T / 2) { target = times[i]; break; }
    if (target == null) return;
    this.pause();
    this.seek(target);
  };

  /** Alt+arrows: move the selected box (with Shift: grow or shrink it) by NUDGE, keyed here. */
  Editor.prototype.nudge = function (dx, dy, resize) {
    var region = this.region(this.selected);
    if (!region) return;
    this.pause();
    var t = this.now(), box = boxAt(region, t);
    if (!box) return;
    box = resize ? { x: box.x, y: box.y, w: box.w + dx, h: box.h + dy } : { x: box.x + dx, y: box.y + dy, w: box.w, h: box.h };
    this.setKeyframe(region.id, t, box, "nudge:" + region.id + ":" + r3(t));
  };

  Editor.prototype.setMode = function (mode) {
    if (mode === this.model.mode) return;
    this.change(function () { this.model.mode = mode; });
  };

  Editor.prototype.name = function (region) { return fmt(this.s.regionName, { n: region.n }); };

  // --- drawing, moving and resizing boxes with the pointer ---------------------------------------

  Editor.prototype.point = function (event) {
    var rect = this.layer.getBoundingClientRect();
    return { x: clamp((event.clientX - rect.left) / rect.width, 0, 1), y: clamp((event.clientY - rect.top) / rect.height, 0, 1),
             px: event.clientX, py: event.clientY };
  };

  Editor.prototype.pointerDown = function (event) {
    if (event.button !== 0 || !this.frags || this.expired) return;
    event.preventDefault();
    this.layer.focus({ preventScroll: true });
    this.pause();
    var t = this.now(), p = this.point(event);
    var handle = event.target.closest(".sc-rx-handle"), node = event.target.closest(".sc-rx-box");
    var id = node ? Number(node.getAttribute("data-region")) : null, region = id != null ? this.region(id) : null;
    var box = region ? boxAt(region, t) : null;
    if (region && box) {
      if (this.selected !== id) this.select(id);
      this.drag = { kind: handle ? "resize" : "move", handle: handle ? handle.getAttribute("data-h") : null,
                    id: id, t: t, p0: p, box0: box, box: null };
    } else {
      this.drag = { kind: "draw", t: t, p0: p, box: null };
    }
    this.layer.setPointerCapture(event.pointerId);
  };

  Editor.prototype.pointerMove = function (event) {
    var drag = this.drag;
    if (!drag) return;
    var p = this.point(event), dx = p.x - drag.p0.x, dy = p.y - drag.p0.y;
    if (drag.kind === "draw") {
      drag.box = { x: Math.min(p.x, drag.p0.x), y: Math.min(p.y, drag.p0.y),
                   w: Math.abs(dx), h: Math.abs(dy), px: Math.abs(p.px - drag.p0.px), py: Math.abs(p.py - drag.p0.py) };
    } else if (drag.kind === "move") {
      var b = drag.box0;
      drag.box = { x: clamp(b.x + dx, 0, 1 - b.w), y: clamp(b.y + dy, 0, 1 - b.h), w: b.w, h: b.h };
    } else {
      var h = drag.handle, s = drag.box0;
      var left = s.x, top = s.y, right = s.x + s.w, bottom = s.y + s.h;
      if (h.indexOf("w") >= 0) left = clamp(s.x + dx, 0, right - MIN_SIZE);
      if (h.indexOf("e") >= 0) right = clamp(s.x + s.w + dx, left + MIN_SIZE, 1);
      if (h.indexOf("n") >= 0) top = clamp(s.y + dy, 0, bottom - MIN_SIZE);
      if (h.indexOf("s") >= 0) bottom = clamp(s.y + s.h + dy, top + MIN_SIZE, 1);
      drag.box = { x: left, y: top, w: right - left, h: bottom - top };
    }
    drag.moved = true;
    this.renderBoxes();
  };

  Editor.prototype.pointerUp = function (event) {
    var drag = this.drag;
    if (!drag) return;
    this.drag = null;
    if (this.layer.hasPointerCapture && this.layer.hasPointerCapture(event.pointerId)) {
      this.layer.releasePointerCapture(event.pointerId);
    }
    if (event.type === "pointercancel") { this.renderBoxes(); return; }
    if (drag.kind === "draw") {
      if (drag.box && drag.box.px >= MIN_DRAW_PX && drag.box.py >= MIN_DRAW_PX) this.addRegion(drag.box, drag.t);
      else this.select(null);
    } else if (drag.moved && drag.box) {
      var a = drag.box, b = drag.box0;
      if (Math.abs(a.x - b.x) + Math.abs(a.y - b.y) + Math.abs(a.w - b.w) + Math.abs(a.h - b.h) > 0.0005) {
        this.setKeyframe(drag.id, drag.t, a);
      }
    }
    this.renderAll();
  };

  // --- rendering ------------------------------------------------------------------------------------

  /** Every frame: follow the playhead (the boxes, the clock, the sidebar's "here" marks). */
  Editor.prototype.tick = function () {
    if (!this.video.paused || this.video.seeking || this.shownT == null) {
      if (this.frags) this.t = this.now();
      if (!this.video.paused && this.clipTime() >= this.duration) this.pause();
    }
    if (this.t !== this.shownT) this.redraw();
  };

  Editor.prototype.redraw = function () {
    if (this.frags && !this.drag) this.t = this.now();
    this.shownT = this.t;
    this.renderBoxes();
    this.renderClock();
    this.renderLive();
  };

  Editor.prototype.renderAll = function () {
    this.renderBoxes();
    this.renderClock();
    this.renderList();
    this.renderSelected();
    this.renderTrack();
    this.renderLive();
    this.renderOutput();
    $(this.root, "[data-sc=undo]").disabled = !this.undoStack.length;
    $(this.root, "[data-sc=redo]").disabled = !this.redoStack.length;
    var except = this.model.mode === "all_except";
    $$(this.root, "[data-sc=mode]").forEach(function (input) { input.checked = input.value === (except ? "all_except" : "regions"); });
    $(this.root, "[data-sc=mode-badge]").hidden = !except;
    this.layer.classList.toggle("sc-rx-except", except);
  };

  Editor.prototype.makeBox = function (region) {
    var node = el("div", "sc-rx-box", { "data-region": String(region.id), role: "img", "data-testid": "rx-box" });
    node.appendChild(el("span", "sc-rx-tag"));
    HANDLES.forEach(function (h) { node.appendChild(el("span", "sc-rx-handle", { "data-h": h })); });
    return node;
  };

  Editor.prototype.renderBoxes = function () {
    var self = this, t = this.t, drag = this.drag, except = this.model.mode === "all_except", alive = {};
    this.model.regions.forEach(function (region) {
      alive[region.id] = true;
      var dragged = drag && drag.id === region.id && drag.box;
      var box = dragged ? drag.box : boxAt(region, t);
      var node = self.boxes[region.id];
      if (!box) { if (node) node.hidden = true; return; }
      if (!node) { node = self.makeBox(region); self.boxes[region.id] = node; self.layer.appendChild(node); }
      node.hidden = false;
      node.style.left = box.x * 100 + "%";
      node.style.top = box.y * 100 + "%";
      node.style.width = box.w * 100 + "%";
      node.style.height = box.h * 100 + "%";
      node.style.setProperty("--sc-rx-colour", region.colour);
      node.classList.toggle("sc-rx-selected", region.id === self.selected);
      node.classList.toggle("sc-rx-between", !dragged && box.key < 0);
      node.classList.toggle("sc-rx-black", !except && region.effect === "black");
      var name = self.name(region);
      $(node, ".sc-rx-tag").textContent = name;
      node.setAttribute("aria-label", fmt(self.s.box, { name: name, x: pct(box.x), y: pct(box.y), w: pct(box.w), h: pct(box.h) }));
    });
    Object.keys(this.boxes).forEach(function (id) {
      if (!alive[id]) { self.boxes[id].remove(); delete self.boxes[id]; }
    });
    var draft = this.draft;
    if (drag && drag.kind === "draw" && drag.box) {
      if (!draft) { draft = this.draft = el("div", "sc-rx-box sc-rx-draft"); this.layer.appendChild(draft); }
      draft.hidden = false;
      draft.style.left = drag.box.x * 100 + "%";
      draft.style.top = drag.box.y * 100 + "%";
      draft.style.width = drag.box.w * 100 + "%";
      draft.style.height = drag.box.h * 100 + "%";
      draft.style.setProperty("--sc-rx-colour", PALETTE[(this.model.next - 1) % PALETTE.length]);
    } else if (draft) {
      draft.hidden = true;
    }
  };

  Editor.prototype.renderClock = function () {
    var ms = this.startMs + this.t * SECOND;
    var clock = $(this.root, "[data-sc=clock]");
    clock.textContent = this.clock.text(ms, true);
    clock.setAttribute("data-time", iso(ms));
    clock.setAttribute("data-t", String(r3(this.t)));
    $(this.root, "[data-sc=clock-big]").textContent = this.clock.text(ms, false);
    $(this.root, "[data-sc=offset]").textContent = fmt(this.s.offset, { t: this.t.toFixed(1), d: this.duration.toFixed(1) });
    if (!this.scrubbing) this.scrubber.value = String(this.t);
    this.scrubber.setAttribute("aria-valuetext", this.clock.text(ms, true));
  };

  /** The region list; the focused control is focused again after the rebuild. */
  Editor.prototype.renderList = function () {
    var self = this, list = $(this.root, "[data-sc=regions]"), s = this.s;
    var focused = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-focus") : null;
    var except = this.model.mode === "all_except";
    list.textContent = "";
    if (!this.model.regions.length) {
      list.appendChild(el("li", "list-group-item small text-body-secondary")).textContent = s.noRegions;
    }
    this.model.regions.forEach(function (region) {
      var name = self.name(region), span = spanOf(region), selected = region.id === self.selected;
      var item = el("li", "list-group-item sc-rx-region" + (selected ? " sc-rx-region-selected" : ""),
                    { "data-testid": "rx-region", "data-region": String(region.id),
                      "data-keyframes": String(region.keyframes.length) });
      item.style.setProperty("--sc-rx-colour", region.colour);
      var row = item.appendChild(el("div", "d-flex align-items-center gap-2"));
      var pick = row.appendChild(el("button", "btn btn-link sc-rx-pick text-start flex-grow-1 p-0", {
        type: "button", "data-act": "select", "data-focus": "select-" + region.id, "aria-pressed": selected ? "true" : "false",
        "aria-label": fmt(s.select, { name: name }) }));
      pick.appendChild(el("span", "sc-rx-swatch", { "aria-hidden": "true" }));
      pick.appendChild(el("strong", "sc-rx-name")).textContent = name;
      var now = pick.appendChild(el("span", "sc-rx-now ms-1", { "data-sc": "now", title: s.activeNow }));
      now.appendChild(el("i", "bi bi-eye-fill", { "aria-hidden": "true" }));
      now.appendChild(el("span", "visually-hidden")).textContent = s.activeNow;
      var from = self.clock.text(self.startMs + span.from * SECOND);
      var detail = span.to == null ? fmt(s.spanOpen, { from: from })
        : fmt(s.span, { from: from, to: self.clock.text(self.startMs + span.to * SECOND) });
      pick.appendChild(el("span", "d-block small text-body-secondary")).textContent =
        detail + " · " + fmt(s.keyframeCount, { n: region.keyframes.length });
      var colour = row.appendChild(el("input", "form-control form-control-color sc-rx-colour", {
        type: "color", "data-act": "colour", "data-focus": "colour-" + region.id, "aria-label": s.colour + " – " + name,
        title: s.colour }));
      colour.value = region.colour;
      if (except) {
        row.appendChild(el("span", "badge text-bg-light sc-rx-sharp")).textContent = s.sharp;
      } else {
        var effect = row.appendChild(el("select", "form-select form-select-sm sc-rx-effect", {
          "data-act": "effect", "data-focus": "effect-" + region.id, "aria-label": s.effect + " – " + name,
          "data-testid": "rx-effect" }));
        [["blur", s.blur], ["black", s.black]].forEach(function (o) {
          var option = effect.appendChild(el("option", null, { value: o[0] }));
          option.textContent = o[1];
        });
        effect.value = region.effect;
      }
      row.appendChild(el("button", "btn btn-sm btn-outline-danger", {
        type: "button", "data-act": "delete", "data-focus": "delete-" + region.id, "aria-label": fmt(s.deleteRegion, { name: name }),
        title: fmt(s.deleteRegion, { name: name }) })).innerHTML = '<i class="bi bi-trash"></i>';
      list.appendChild(item);
    });
    if (focused) {
      var again = $(list, '[data-focus="' + focused + '"]');
      if (again) again.focus();
    }
  };

  Editor.prototype.renderSelected = function () {
    var self = this, region = this.region(this.selected), box = $(this.root, "[data-sc=selected]");
    box.hidden = !region;
    var list = $(this.root, "[data-sc=keyframes]");
    list.textContent = "";
    if (!region) return;
    region.keyframes.forEach(function (k, i) {
      var time = self.clock.text(self.startMs + k.t * SECOND);
      var item = el("li", "sc-rx-keyframe d-flex align-items-center gap-2",
                    { "data-testid": "rx-keyframe", "data-t": k.t.toFixed(3), "data-index": String(i) });
      item.appendChild(el("button", "btn btn-sm btn-link p-0 sc-rx-kf-time", {
        type: "button", "data-act": "jump", "data-t": String(k.t), "aria-label": fmt(self.s.keyframeAt, { time: time })
      })).textContent = time;
      item.appendChild(el("span", "small text-body-secondary")).textContent =
        "+" + k.t.toFixed(1) + " s · " + pct(k.x) + ", " + pct(k.y) + " · " + pct(k.w) + " × " + pct(k.h) + " %";
      list.appendChild(item);
    });
  };

  /** Above the scrubber: when each region is on, and the selected one's keyframes. */
  Editor.prototype.renderTrack = function () {
    var self = this, track = $(this.root, "[data-sc=track]"), d = this.duration || 1;
    track.textContent = "";
    this.model.regions.forEach(function (region, index) {
      var span = spanOf(region), to = span.to == null ? d : span.to;
      var bar = track.appendChild(el("div", "sc-rx-span" + (region.id === self.selected ? " sc-rx-span-selected" : "")));
      bar.style.left = (span.from / d) * 100 + "%";
      bar.style.width = Math.max(0.3, ((to - span.from) / d) * 100) + "%";
      bar.style.bottom = (index % 4) * 3 + "px";
      bar.style.setProperty("--sc-rx-colour", region.colour);
    });
    var region = this.region(this.selected);
    if (region) {
      region.keyframes.forEach(function (k) {
        var mark = track.appendChild(el("div", "sc-rx-diamond", { "data-t": String(k.t) }));
        mark.style.left = (k.t / d) * 100 + "%";
        mark.style.setProperty("--sc-rx-colour", region.colour);
      });
    }
  };

  /** What depends on the playhead in the sidebar: "in the picture now", the keyframe here, buttons. */
  Editor.prototype.renderLive = function () {
    var self = this, t = this.t;
    $$(this.root, "[data-testid=rx-region]").forEach(function (item) {
      var region = self.region(Number(item.getAttribute("data-region")));
      var on = !!(region && boxAt(region, t));
      item.classList.toggle("sc-rx-on", on);
      var badge = $(item, "[data-sc=now]");
      if (badge) badge.hidden = !on;
    });
    var region = this.region(this.selected), here = region ? keyIndex(region, t) : -1;
    $$(this.root, "[data-testid=rx-keyframe]").forEach(function (item) {
      var isHere = Number(item.getAttribute("data-index")) === here;
      item.classList.toggle("sc-rx-here", isHere);
      if (isHere) item.setAttribute("aria-current", "true"); else item.removeAttribute("aria-current");
    });
    $(this.root, "[data-sc=kf-delete]").disabled = here < 0;
    $(this.root, "[data-sc=kf-add]").disabled = !region;
    var times = [];
    (region ? [region] : this.model.regions).forEach(function (r) { r.keyframes.forEach(function (k) { times.push(k.t); }); });
    $(this.root, "[data-sc=kf-prev]").disabled = !times.some(function (v) { return v < t - SAME_T / 2; });
    $(this.root, "[data-sc=kf-next]").disabled = !times.some(function (v) { return v > t + SAME_T / 2; });
  };

  Editor.prototype.renderOutput = function () {
    var part = this.part;
    $(this.root, "[data-sc=part-fields]").hidden = !part.on;
    $(this.root, "[data-sc=part-from]").textContent = this.clock.text(this.startMs + part.from * SECOND);
    $(this.root, "[data-sc=part-to]").textContent = this.clock.text(this.startMs + part.to * SECOND);
    $(this.root, "[data-sc=nothing-hidden]").hidden = this.model.mode !== "regions" || this.model.regions.length > 0;
  };

  // --- preview and export -------------------------------------------------------------------------

  Editor.prototype.error = function (text) {
    var box = $(this.root, "[data-sc=error]");
    box.textContent = text || "";
    box.hidden = !text;
  };

  Editor.prototype.request = function (url, body, accept) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", Accept: accept, "X-CSRFToken": this.config.csrf_token },
                        body: JSON.stringify(body) });
  };

  /** The server renders this frame with the export's own filter graph; shown beside the editor's view. */
  Editor.prototype.preview = function () {
    var self = this, button = $(this.root, "[data-sc=preview]");
    if (button.disabled) return;
    this.pause();
    var at = this.previewMoment(), shown = this.now();
    this.snapshot(shown);
    this.error(null);
    this.say(this.s.previewing);
    button.disabled = true;
    this.request(this.config.preview_url, { at: at, redaction: specOf(this.model) }, "image/jpeg, application/json")
      .then(function (response) {
        if (!response.ok) return responseProblem(response).then(function (text) { throw { message: text }; });
        return response.blob();
      })
      .then(function (blob) {
        var image = $(self.root, "[data-sc=preview-image]");
        if (self.previewUrl) URL.revokeObjectURL(self.previewUrl);
        self.previewUrl = URL.createObjectURL(blob);
        image.src = self.previewUrl;
        $(self.root, "[data-sc=preview-caption]").textContent =
          fmt(self.s.previewCaption, { time: self.clock.text(self.startMs + shown * SECOND, true) });
        self.say("");
        self.showModal();
      })
      .catch(function (problem) {
        self.say("");
        self.error(problem && problem.message ? fmt(self.s.failed, { error: problem.message }) : self.s.networkError);
      })
      .then(function () { button.disabled = false; });
  };

  /** The moment to ask the server for: it renders the first frame at or after it, so a little before
   *  the frame on screen, but not before the start of its segment (the server reads that one file). */
  Editor.prototype.previewMoment = function () {
    var t = this.now(), at = floor3(t - EDGE);
    if (this.frags && this.frags.length) {
      var frag = this.fragAt(this.position());
      if (frag.programDateTime != null) at = Math.max(at, ceil3((frag.programDateTime - this.startMs) / SECOND) + 0.001);
    }
    return r3(clamp(at, 0, Math.max(0, this.duration - 0.05)));
  };

  /** The frame on screen now, with the editor's boxes, on the preview's left canvas. */
  Editor.prototype.snapshot = function (at) {
    var video = this.video, canvas = $(this.root, "[data-sc=preview-original]");
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return;
    canvas.width = w;
    canvas.height = h;
    var context = canvas.getContext("2d");
    try { context.drawImage(video, 0, 0, w, h); } catch (e) { return; }
    context.lineWidth = Math.max(2, Math.round(h / 180));
    this.model.regions.forEach(function (region) {
      var box = boxAt(region, at);
      if (!box) return;
      context.strokeStyle = region.colour;
      context.setLineDash(box.key < 0 ? [6, 4] : []);
      context.strokeRect(box.x * w, box.y * h, box.w * w, box.h * h);
    });
  };

  Editor.prototype.showModal = function () {
    var node = $(this.root, "[data-sc=preview-modal]");
    var Modal = global.bootstrap && global.bootstrap.Modal;
    if (Modal) { Modal.getOrCreateInstance(node).show(); return; }
    node.classList.add("show");
    node.style.display = "block";
    node.removeAttribute("aria-hidden");
  };

  Editor.prototype.modalOpen = function () {
    return $(this.root, "[data-sc=preview-modal]").classList.contains("show");
  };

  Editor.prototype.exportClip = function () {
    var self = this, button = $(this.root, "[data-sc=export]");
    if (button.disabled) return;
    this.pause();
    this.error(null);
    var body = { footage: this.config.footage }, from = 0, to = null;
    if (this.part.on) {
      from = r3(this.part.from);
      to = r3(this.part.to);
      if (to - from < 0.1) { this.error(this.s.partInvalid); return; }
      if (from >= 0.001) body.start = iso(this.startMs + Math.round(from * SECOND));
      else from = 0;
      if (to < this.duration - 0.001) body.end = iso(this.startMs + Math.round(to * SECOND));
      else to = null;
    }
    body.redaction = specOf(this.model, from, to);
    this.say(this.s.exporting);
    button.disabled = true;
    this.request(this.config.export_url, body, "application/json").then(function (response) {
      if (response.status === 201) {
        self.dirty = false;
        self.leaving = true;
        self.saveDraft();
        global.location.assign(self.config.detail_url);
        return;
      }
      return responseProblem(response).then(function (text) {
        self.say("");
        self.error(fmt(self.s.failed, { error: text }));
        button.disabled = false;
      });
    }).catch(function () {
      self.say("");
      self.error(self.s.networkError);
      button.disabled = false;
    });
  };

  // --- controls and keys ------------------------------------------------------------------------------

  Editor.prototype.bind = function () {
    var self = this, root = this.root, layer = this.layer;
    layer.addEventListener("pointerdown", function (e) { self.pointerDown(e); });
    layer.addEventListener("pointermove", function (e) { self.pointerMove(e); });
    layer.addEventListener("pointerup", function (e) { self.pointerUp(e); });
    layer.addEventListener("pointercancel", function (e) { self.pointerUp(e); });
    if (global.ResizeObserver) new global.ResizeObserver(function () { self.layout(); }).observe(this.stage);
    else global.addEventListener("resize", function () { self.layout(); });

    $(root, "[data-sc=play]").addEventListener("click", function () { self.toggle(); });
    $$(root, "[data-sc-step]").forEach(function (button) {
      button.addEventListener("click", function () { self.step(parseFloat(button.getAttribute("data-sc-step"))); });
    });
    $(root, "[data-sc=kf-prev]").addEventListener("click", function () { self.jumpKeyframe(-1); });
    $(root, "[data-sc=kf-next]").addEventListener("click", function () { self.jumpKeyframe(1); });
    $(root, "[data-sc=kf-add]").addEventListener("click", function () { self.keyframeHere(); });
    $(root, "[data-sc=kf-delete]").addEventListener("click", function () { self.deleteKeyframe(); });
    $(root, "[data-sc=region-delete]").addEventListener("click", function () { self.deleteRegion(self.selected); });
    $(root, "[data-sc=undo]").addEventListener("click", function () { self.undo(false); });
    $(root, "[data-sc=redo]").addEventListener("click", function () { self.undo(true); });
    $(root, "[data-sc=add]").addEventListener("click", function () {
      self.pause();
      self.addRegion({ x: 0.4, y: 0.3, w: 0.2, h: 0.4 }, self.now());
    });
    $(root, "[data-sc=preview]").addEventListener("click", function () { self.preview(); });
    $(root, "[data-sc=export]").addEventListener("click", function () { self.exportClip(); });
    $$(root, "[data-sc=mode]").forEach(function (input) {
      input.addEventListener("change", function () { if (input.checked) self.setMode(input.value); });
    });

    var scrubber = this.scrubber;
    scrubber.addEventListener("pointerdown", function () { self.scrubbing = true; self.pause(); });
    scrubber.addEventListener("pointerup", function () { self.scrubbing = false; });
    scrubber.addEventListener("input", function () { self.pause(); self.seek(parseFloat(scrubber.value)); });
    scrubber.addEventListener("change", function () { self.scrubbing = false; });
    $(root, "[data-sc=track]").addEventListener("click", function (e) {
      var mark = e.target.closest(".sc-rx-diamond");
      if (mark) { self.pause(); self.seek(parseFloat(mark.getAttribute("data-t"))); }
    });

    var list = $(root, "[data-sc=regions]");
    list.addEventListener("click", function (e) {
      var button = e.target.closest("[data-act]"), item = e.target.closest("[data-region]");
      if (!button || !item) return;
      var id = Number(item.getAttribute("data-region")), act = button.getAttribute("data-act");
      if (act === "select") {
        var region = self.region(id);
        self.select(self.selected === id ? null : id);
        // Selecting a region that is off now goes to its first keyframe, so its box can be edited.
        if (self.selected === id && region && !boxAt(region, self.now())) { self.pause(); self.seek(region.keyframes[0].t); }
      } else if (act === "delete") {
        self.deleteRegion(id);
      }
    });
    list.addEventListener("change", function (e) {
      var item = e.target.closest("[data-region]"), act = e.target.getAttribute("data-act");
      var region = item && self.region(Number(item.getAttribute("data-region")));
      if (!region) return;
      var value = e.target.value;
      if (act === "effect" && value !== region.effect) self.change(function () { region.effect = value; });
      if (act === "colour" && value !== region.colour) self.change(function () { region.colour = value; });
    });
    list.addEventListener("input", function (e) {  // the colour follows the picker while it is open
      var item = e.target.closest("[data-region]");
      if (e.target.getAttribute("data-act") !== "colour" || !item) return;
      var node = self.boxes[item.getAttribute("data-region")];
      if (node) node.style.setProperty("--sc-rx-colour", e.target.value);
    });
    $(root, "[data-sc=keyframes]").addEventListener("click", function (e) {
      var button = e.target.closest("[data-act=jump]");
      if (button) { self.pause(); self.seek(parseFloat(button.getAttribute("data-t"))); }
    });

    $(root, "[data-sc=part]").addEventListener("change", function (e) {
      self.part.on = e.target.checked;
      self.renderOutput();
    });
    $(root, "[data-sc=part-set-from]").addEventListener("click", function () {
      self.pause();
      self.part.from = self.now();
      if (self.part.to <= self.part.from) self.part.to = self.duration;
      self.renderOutput();
    });
    $(root, "[data-sc=part-set-to]").addEventListener("click", function () {
      self.pause();
      self.part.to = self.now();
      if (self.part.from >= self.part.to) self.part.from = 0;
      self.renderOutput();
    });

    document.addEventListener("keydown", function (e) { self.key(e); });
  };

  Editor.prototype.key = function (e) {
    if (e.defaultPrevented || this.modalOpen()) return;
    var target = e.target, range = target && target.type === "range";
    if (typing(target) && !range) return;
    var key = e.key, handled = true;
    if (e.ctrlKey || e.metaKey) {
      if (key === "z" || key === "Z") this.undo(e.shiftKey);
      else if (key === "y" || key === "Y") this.undo(true);
      else return;
      e.preventDefault();
      return;
    }
    if (key === " " || key === "Spacebar") {
      this.toggle();
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      var sign = key === "ArrowLeft" ? -1 : 1;
      if (e.altKey) this.nudge(sign * NUDGE, 0, e.shiftKey);
      else this.step(sign * (e.shiftKey ? 1 : 0.2));
    } else if ((key === "ArrowUp" || key === "ArrowDown") && e.altKey) {
      this.nudge(0, (key === "ArrowUp" ? -1 : 1) * NUDGE, e.shiftKey);
    } else if (key === "k" || key === "K") {
      this.keyframeHere();
    } else if (key === "Delete" || key === "Backspace") {
      if (e.shiftKey || !this.deleteKeyframe()) this.deleteRegion(this.selected);
    } else if (key === "[") {
      this.jumpKeyframe(-1);
    } else if (key === "]") {
      this.jumpKeyframe(1);
    } else if (key === "p" || key === "P") {
      this.preview();
    } else if (key === "Escape") {
      this.select(null);
    } else {
      handled = false;
    }
    if (handled) e.preventDefault();
  };

  // --- start --------------------------------------------------------------------------------------------

  global.SafeCam = global.SafeCam || {};
  global.SafeCam.Redaction = { boxAt: boxAt, specOf: specOf, editor: null };

  var configNode = document.getElementById("sc-redaction-config");
  var root = document.querySelector("[data-sc-redaction]");
  if (configNode && root) {
    var editor = new Editor(root, JSON.parse(configNode.textContent), readStrings(root));
    global.SafeCam.Redaction.editor = editor;
    editor.start();
  }
})(window);
