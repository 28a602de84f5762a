/* SafeCam player: recorded and near-live HLS playback with a wall-clock timeline.
 *
 * One file, no build step. Defines window.SafeCam = {ZoneClock, CameraSource, Timeline,
 * SafeCamPlayer, SafeCamGrid} and starts a player for each json_script it finds:
 *   #sc-player-config  one camera (templates/footage/_player.html)
 *   #sc-grid-config    every camera of an eldership in sync (templates/footage/site_playback.html)
 *
 * Time: every instant is a number of milliseconds since the epoch (UTC). Only ZoneClock turns
 * instants into wall-clock text or back, in the configured zone (Europe/Vilnius), DST included.
 * The HLS playlists carry EXT-X-PROGRAM-DATE-TIME on every segment, and gaps are skipped, so
 * media time and wall-clock time are mapped segment by segment (CameraSource.wallAt/positionFor).
 */
(function (global) {
  "use strict";

  var SECOND = 1000, MINUTE = 60 * SECOND, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  var SPEEDS = [0.5, 1, 2, 4, 8];
  var BEAT_MS = 15 * SECOND;
  var Hls = global.Hls;

  // --- small helpers ----------------------------------------------------------------------------

  var common = window.SafeCamCommon;  // common.js: helpers shared with the other SafeCam scripts
  var iso = common.iso, clamp = common.clamp, pad = common.pad, $ = common.$, $$ = common.$$, el = common.el,
      fmt = common.fmt, readStrings = common.readStrings, typing = common.typing;

  function Emitter() { this._on = {}; }
  Emitter.prototype.on = function (name, fn) { (this._on[name] = this._on[name] || []).push(fn); return this; };
  Emitter.prototype.emit = function (name, detail) {
    (this._on[name] || []).slice().forEach(function (fn) { try { fn(detail); } catch (e) { console.error(e); } });
  };

  /** JSON over fetch with the session cookie; never throws on an HTTP status, only on a network failure. */
  function api(url, options) {
    options = options || {};
    var init = { method: options.method || "GET", credentials: "same-origin", headers: { Accept: "application/json" } };
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.csrf) init.headers["X-CSRFToken"] = options.csrf;
    if (options.keepalive) init.keepalive = true;
    return fetch(url, init).then(function (response) {
      if (response.status === 204) return { ok: true, status: 204, data: null };
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function errorText(data) {
    if (!data) return "";
    if (typeof data === "string") return data;
    var parts = [];
    Object.keys(data).forEach(function (key) {
      var value = data[key];
      var text = Array.isArray(value) ? value.join(" ") : (typeof value === "object" ? errorText(value) : String(value));
      parts.push(text);
    });
    return parts.join(" ");
  }

  // --- wall-clock time in one zone --------------------------------------------------------------

  /** Formats instants in a fixed IANA zone and converts zone-local date-times back to instants. */
  function ZoneClock(timeZone, locale) {
    this.timeZone = timeZone || "Europe/Vilnius";
    this.locale = locale === "en" ? "en-GB" : locale === "lt" ? "lt-LT" : (locale || "lt-LT");
    var numeric = { timeZone: this.timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
                    hour: "2-digit", minute: "2-digit", second: "2-digit" };
    this._numeric = new Intl.DateTimeFormat(this.locale, numeric);
    this._day = new Intl.DateTimeFormat(this.locale, { timeZone: this.timeZone, weekday: "short", year: "numeric",
                                                       month: "long", day: "numeric" });
  }
  ZoneClock.prototype.parts = function (ms) {
    var out = {};
    this._numeric.formatToParts(new Date(ms)).forEach(function (p) {
      if (p.type !== "literal") out[p.type] = parseInt(p.value, 10);
    });
    if (out.hour === 24) out.hour = 0;
    return out;
  };
  /** Local minus UTC, in ms, at the instant ``ms``. */
  ZoneClock.prototype.offset = function (ms) {
    var p = this.parts(ms);
    var asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    return asUtc - Math.floor(ms / SECOND) * SECOND;
  };
  /** The instant at which the zone's clock shows the given local date-time. Like Python's zoneinfo
   *  (fold=0): a time shown twice (the autumn change) is its first instant; a time never shown (the
   *  spring change) is read with the offset before the change. */
  ZoneClock.prototype.toInstant = function (year, month, day, hour, minute, second) {
    var local = Date.UTC(year, month - 1, day, hour || 0, minute || 0, second || 0);
    var before = this.offset(local - DAY), after = this.offset(local + DAY);
    var self = this;
    var valid = [local - before, local - after].filter(function (t) { return t + self.offset(t) === local; });
    return valid.length ? Math.min.apply(null, valid) : local - before;
  };
  ZoneClock.prototype.format = function (ms) {
    var p = this.parts(ms);
    return p.year + "-" + pad(p.month) + "-" + pad(p.day) + " " + pad(p.hour) + ":" + pad(p.minute) + ":" + pad(p.second);
  };
  ZoneClock.prototype.time = function (ms, seconds) {
    var p = this.parts(ms);
    return pad(p.hour) + ":" + pad(p.minute) + (seconds ? ":" + pad(p.second) : "");
  };
  ZoneClock.prototype.dayLabel = function (ms) { return this._day.format(new Date(ms + 12 * HOUR)); };
  ZoneClock.prototype.dayStart = function (ms) {
    var p = this.parts(ms);
    return this.toInstant(p.year, p.month, p.day, 0, 0, 0);
  };
  ZoneClock.prototype.addDays = function (dayStart, n) {
    var p = this.parts(dayStart + 12 * HOUR);
    var d = new Date(Date.UTC(p.year, p.month - 1, p.day + n));
    return this.toInstant(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, 0, 0);
  };
  /** "YYYY-MM-DDTHH:MM:SS" for <input type="datetime-local">. */
  ZoneClock.prototype.inputValue = function (ms) { return this.format(ms).replace(" ", "T"); };
  ZoneClock.prototype.parseInput = function (value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value || "");
    if (!m) return NaN;
    return this.toInstant(+m[1], +m[2], +m[3], +m[4], +m[5], +(m[6] || 0));
  };
  /** The first instant >= ms on a local multiple of ``step`` (aligned in local time). */
  ZoneClock.prototype.ceilLocal = function (ms, step) {
    var off = this.offset(ms);
    var local = Math.ceil((ms + off) / step) * step;
    var result = local - off;
    var off2 = this.offset(result);
    return off2 === off ? result : local - off2;
  };

  // --- one camera's video: session, HLS, wall clock ---------------------------------------------

  var VOD_CONFIG = {
    autoStartLoad: false, startFragPrefetch: true, testBandwidth: false, enableWorker: true,
    maxBufferLength: 12, maxMaxBufferLength: 30, backBufferLength: 90, maxBufferHole: 0.5,
    lowLatencyMode: false, startOnSegmentBoundary: false
  };
  var LIVE_CONFIG = {
    autoStartLoad: true, startFragPrefetch: true, testBandwidth: false, enableWorker: true,
    liveSyncDurationCount: 1, liveMaxLatencyDurationCount: 3, maxLiveSyncPlaybackRate: 1.1,
    maxBufferLength: 12, backBufferLength: 30, lowLatencyMode: false, liveDurationInfinity: false
  };

  function useHlsJs() { return !!(Hls && Hls.isSupported()); }

  /**
   * One camera on one <video>: opens viewing sessions, loads recorded windows or the near-live
   * playlist, maps media time to wall-clock time, reports what was watched (heartbeat).
   * Events: "state" (loading|playing|paused|buffering|nofootage|waiting|error), "session", "window", "error".
   */
  function CameraSource(video, config, strings) {
    Emitter.call(this);
    this.video = video;
    this.config = config;
    this.strings = strings || {};
    this.mode = null;            // "recorded" | "live" (of the current session)
    this.session = null;
    this.hls = null;
    this.frags = null;           // [{start, duration, programDateTime}] of the loaded playlist
    this.window = null;          // {start, end} requested for recorded footage
    this.state = "idle";
    this.rate = 1;
    this.wantPlay = false;
    this.target = null;          // instant being loaded
    this._gen = 0;
    this.watched = new common.Watched();
    this._reopens = 0;
    this._reopening = false;
    this._mediaRecoveries = 0;
    this._beatTimer = null;
    this._pollTimer = null;
    if (config.session && config.session.playlist) {  // opened with the page: one round trip less
      this.session = config.session;
      this.mode = config.session.mode || "recorded";
      this._startBeat();
    }
    video.muted = true;
    video.playsInline = true;
    video.setAttribute("playsinline", "");
    var self = this;
    video.addEventListener("playing", function () { self._setState("playing"); });
    video.addEventListener("pause", function () {
      if (self.state === "playing" || self.state === "buffering") self._setState("paused");
      self.watched.pause();
    });
    video.addEventListener("waiting", function () { if (!video.paused) self._setState("buffering"); });
    video.addEventListener("seeking", function () { self.watched.pause(); });
    video.addEventListener("timeupdate", function () { self._track(); });
    video.addEventListener("ended", function () { self._onEnded(); });
    video.addEventListener("canplay", function () {
      if (self.wantPlay && video.paused) self._play();
      else if (!self.wantPlay && (self.state === "loading" || self.state === "buffering")) self._setState("paused");
    });
  }
  CameraSource.prototype = Object.create(Emitter.prototype);

  CameraSource.prototype._setState = function (state, message) {
    if (this.state === state && !message) return;
    this.state = state;
    this.emit("state", { state: state, message: message || "" });
  };

  CameraSource.prototype._play = function () {
    var self = this;
    var promise = this.video.play();
    if (promise && promise.catch) promise.catch(function () { /* superseded by a new load or a pause */ });
  };

  CameraSource.prototype.setRate = function (rate) {
    this.rate = rate;
    if (this.mode === "live") rate = 1;
    this.video.defaultPlaybackRate = rate;
    this.video.playbackRate = rate;
  };

  CameraSource.prototype.play = function () {
    this.wantPlay = true;
    if (this.state === "nofootage" || this.state === "error" || this.state === "waiting" || !this.frags) {
      var at = this.currentWall();
      if (at == null) at = this.target;
      if (at != null && this.mode !== "live") return this.playAt(at, { play: true });
    }
    this._play();
    return Promise.resolve();
  };

  CameraSource.prototype.pause = function () {
    this.wantPlay = false;
    this.video.pause();
  };

  /** The wall-clock instant of the frame on screen, or null before anything is loaded. */
  CameraSource.prototype.currentWall = function (mediaTime) {
    var t = mediaTime != null ? mediaTime : this.video.currentTime;
    if (this.frags && this.frags.length) return this.wallAt(t);
    if (this.mode === "live" && this.video.getStartDate) {
      var start = this.video.getStartDate().getTime();
      if (!isNaN(start)) return start + t * SECOND;
    }
    return null;
  };

  CameraSource.prototype.wallAt = function (t) {
    var f = this.frags;
    if (!f || !f.length) return null;
    var lo = 0, hi = f.length - 1, idx = 0;
    while (lo <= hi) {  // the last fragment starting at or before t
      var mid = (lo + hi) >> 1;
      if (f[mid].start <= t + 0.001) { idx = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    var frag = f[idx];
    if (frag.programDateTime == null) return null;
    return frag.programDateTime + clamp(t - frag.start, 0, frag.duration) * SECOND;
  };

  /** Media position of instant ``ms`` in the loaded playlist; in a gap, the next footage; null past the end. */
  CameraSource.prototype.positionFor = function (ms) {
    var f = this.frags;
    if (!f || !f.length) return null;
    var lo = 0, hi = f.length - 1, idx = -1;
    while (lo <= hi) {  // the first fragment ending after ms
      var mid = (lo + hi) >> 1;
      if (f[mid].programDateTime + f[mid].duration * SECOND > ms) { idx = mid; hi = mid - 1; } else { lo = mid + 1; }
    }
    if (idx < 0) return null;
    var frag = f[idx];
    var into = Math.max(0, (ms - frag.programDateTime) / SECOND);
    return frag.start + Math.min(into, Math.max(0, frag.duration - 0.05));
  };

  CameraSource.prototype.loadedEnd = function () {
    var f = this.frags;
    if (!f || !f.length) return null;
    var last = f[f.length - 1];
    return last.programDateTime + last.duration * SECOND;
  };

  /** Whether ``ms`` can be reached by a plain seek in what is loaded now. */
  CameraSource.prototype.canSeekTo = function (ms) {
    if (this.mode !== "recorded" || !this.window || !this.frags || !this.frags.length) return false;
    if (this.state === "error") return false;
    return ms >= this.window.start && ms < this.loadedEnd();
  };

  /** Play (or show, paused) recorded footage from instant ``ms``: a seek if it is loaded, else a new window. */
  CameraSource.prototype.playAt = function (ms, options) {
    options = options || {};
    this.wantPlay = options.play !== false;
    this.target = ms;
    clearTimeout(this._pollTimer);
    if (this.canSeekTo(ms)) {
      var pos = this.positionFor(ms);
      if (pos != null) {
        this.video.currentTime = pos;
        if (this.wantPlay) this._play(); else this.video.pause();
        return Promise.resolve();
      }
    }
    return this._loadRecorded(ms);
  };

  // A playlist covers an hour each side of where playback starts: a specialist scrubs back and
  // forth around a moment, and every seek inside the window is a plain seek. (Two hours are 720
  // entries, about 55 kB, built by the server in about 10 ms.)
  var WINDOW_BEFORE = HOUR, WINDOW_AFTER = HOUR;

  CameraSource.prototype._loadRecorded = function (ms) {
    return this._loadWindow(ms - WINDOW_BEFORE, ms + WINDOW_AFTER, ms);
  };

  /** Load the recorded playlist for [start, end) and start at ``target``: an instant, or a function
   *  called once the playlist is parsed that returns one (null: nothing to show). ``onStart`` hears
   *  the instant chosen, or null. */
  CameraSource.prototype._loadWindow = function (start, end, target, onStart) {
    var self = this;
    var gen = ++this._gen;
    this._setState("loading");
    var load = this._attach(false, target, gen, onStart);
    return this._ensureSession("recorded").then(function (session) {
      if (gen !== self._gen) return;
      self.window = { start: start, end: end };
      load(session.playlist + (session.playlist.indexOf("?") < 0 ? "?" : "&") +
        "start=" + encodeURIComponent(iso(start)) + "&end=" + encodeURIComponent(iso(end)));
      self.emit("window", self.window);
    }).catch(function (error) {
      if (gen !== self._gen) return;
      self._fail(error);
      if (onStart) onStart(null);
    });
  };

  /** Show (or play) the newest footage of the last hour, a minute before its end, found in that
   *  hour's playlist itself (no extra request). Resolves with the instant, or null when the last
   *  hour holds none (the caller then looks further back). */
  CameraSource.prototype.openNewest = function (options) {
    var self = this, now = Date.now();
    this.wantPlay = !!(options && options.play);
    return new Promise(function (resolve) {
      var pick = function () {
        var end = self.loadedEnd();
        var ms = end == null ? null : Math.max(self.frags[0].programDateTime, end - MINUTE);
        self.target = ms;
        return ms;
      };
      self._loadWindow(now - HOUR, now + MINUTE, pick, resolve);
    });
  };

  CameraSource.prototype.goLive = function () {
    var self = this;
    var gen = ++this._gen;
    this.wantPlay = true;
    this.window = null;
    clearTimeout(this._pollTimer);
    this._setState("loading");
    var load = this._attach(true, null, gen);
    return this._ensureSession("live").then(function (session) {
      if (gen !== self._gen) return;
      self.video.defaultPlaybackRate = 1;
      load(session.live_playlist);
    }).catch(function (error) { if (gen === self._gen) self._fail(error); });
  };

  CameraSource.prototype._fail = function (error) {
    console.warn("SafeCam player:", error);
    this._setState("error", (error && error.userMessage) || this.strings.error || "");
  };

  /** The open session for ``mode``, or a new one (one request even when asked twice at once). */
  CameraSource.prototype._ensureSession = function (mode) {
    var self = this;
    if (this.session && this.mode === mode) return Promise.resolve(this.session);
    if (this._opening && this._opening.mode === mode) return this._opening.promise;
    if (this.session) this.closeSession(false);
    this._wantMode = mode;
    var promise = api(this.config.session_url, { method: "POST", body: { mode: mode }, csrf: this.config.csrf_token })
      .then(function (r) {
        if (self._opening && self._opening.promise === promise) self._opening = null;
        if (r.status !== 201 && r.status !== 200) {
          var error = new Error("session " + r.status);
          error.userMessage = r.status === 404 || r.status === 403
            ? self.strings.notAllowed : (errorText(r.data) || self.strings.error);
          throw error;
        }
        if (mode !== self._wantMode) {  // the viewer switched modes meanwhile: end this one at once
          fetch(r.data.beat, { method: "POST", credentials: "same-origin", keepalive: true,
                               headers: { "Content-Type": "application/json" },
                               body: JSON.stringify({ watched: [], closing: true }) }).catch(function () {});
          return r.data;
        }
        self.session = r.data;
        self.mode = mode;
        self.watched.clear();
        self._startBeat();
        self.emit("session", self.session);
        return self.session;
      }, function (error) {
        if (self._opening && self._opening.promise === promise) self._opening = null;
        throw error;
      });
    this._opening = { mode: mode, promise: promise };
    return promise;
  };

  /** Open the session early (while the page still works out where to start), to save a round trip. */
  CameraSource.prototype.prepare = function (mode) {
    this._ensureSession(mode).catch(function () { /* reported when it is used */ });
  };

  CameraSource.prototype._destroyHls = function () {
    if (this.hls) {
      var hls = this.hls;
      this.hls = null;
      try { hls.destroy(); } catch (e) { /* already gone */ }
    }
  };

  /** A fresh player on the <video> (hls.js made and attached now, while the caller still waits for
   *  its session); returns the function that gives it the playlist URL. */
  CameraSource.prototype._attach = function (live, target, gen, onStart) {
    var self = this, video = this.video;
    this._destroyHls();
    this.frags = null;
    this.watched.pause();
    this._pendingStart = onStart || null;
    video.defaultPlaybackRate = live ? 1 : this.rate;
    if (useHlsJs()) {
      var hls = new Hls(live ? LIVE_CONFIG : VOD_CONFIG);
      this.hls = hls;
      var started = live;
      var onLevel = function (event, data) {
        if (hls !== self.hls) return;
        self.frags = data.details.fragments;
        if (!started) {
          started = true;
          self._pendingStart = null;
          var want = typeof target === "function" ? target() : target;
          var pos = want == null ? null : self.positionFor(want);
          if (onStart) onStart(pos == null ? null : want);
          if (pos == null) { if (!onStart) self._noFootage(); else self._destroyHls(); return; }
          hls.startLoad(pos);
        } else if (!self.frags.length && !live) {
          self._noFootage();
        }
        self.emit("level", data.details);
      };
      hls.on(Hls.Events.LEVEL_LOADED, onLevel);
      hls.on(Hls.Events.LEVEL_UPDATED, onLevel);
      hls.on(Hls.Events.MEDIA_ATTACHED, function () {
        if (hls !== self.hls) return;
        video.playbackRate = video.defaultPlaybackRate;
        if (self.wantPlay) self._play();
      });
      hls.on(Hls.Events.FRAG_BUFFERED, function () {
        if (hls === self.hls) { self._mediaRecoveries = 0; self._reopens = 0; }
      });
      hls.on(Hls.Events.ERROR, function (event, data) { self._onHlsError(hls, data); });
      hls.attachMedia(video);
      return function (url) { if (hls === self.hls) hls.loadSource(url); };
    }
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      return function (url) { if (gen === self._gen) self._attachNative(url, live, target, gen, onStart); };
    }
    var error = new Error("no HLS support");
    error.userMessage = this.strings.unsupported;
    this._fail(error);
    return function () {};
  };

  /** Safari and other browsers that play HLS themselves: parse the playlist for the wall clock. */
  CameraSource.prototype._attachNative = function (url, live, target, gen, onStart) {
    var self = this, video = this.video;
    var loadMap = function () {
      return fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (r.status === 410) { self._reopen(); throw new Error("expired"); }
        return r.text();
      }).then(function (text) {
        var frags = [], start = 0, pdt = null, cursor = 0;
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
      });
    };
    loadMap().then(function (frags) {
      if (gen !== self._gen) return;
      if (!live) {
        self.frags = frags;
        var want = typeof target === "function" ? target() : target;
        var pos = want == null ? null : self.positionFor(want);
        if (onStart) onStart(pos == null ? null : want);
        if (pos == null) { if (!onStart) self._noFootage(); return; }
        video.addEventListener("loadedmetadata", function once() {
          video.removeEventListener("loadedmetadata", once);
          video.currentTime = pos;
          if (self.wantPlay) self._play();
        });
      } else {
        video.addEventListener("loadedmetadata", function once() {
          video.removeEventListener("loadedmetadata", once);
          self._play();
        });
      }
      video.src = url;
    }).catch(function (error) { if (gen === self._gen) self._fail(error); });
  };

  CameraSource.prototype._noFootage = function () {
    var report = this._pendingStart;
    this._pendingStart = null;
    this._destroyHls();
    this.frags = null;
    if (report) report(null);  // the caller decides what to show
    else this._setState("nofootage", this.strings.noFootage);
  };

  CameraSource.prototype._onHlsError = function (hls, data) {
    if (hls !== this.hls) return;
    var details = data.details || "";
    if (details === "levelEmptyError" || (details === "manifestParsingError" && /no (EXTINF|fragments)|empty/i.test(
        String(data.reason || (data.error && data.error.message) || "")))) {
      this._noFootage();
      return;
    }
    var code = data.response && data.response.code;
    if (code === 410) {  // the session expired: hls.js would retry in vain for seconds
      this._reopen();
      return;
    }
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
      if (code === 404 && /manifest|level/i.test(details) && !this.session) {
        this._fail({ userMessage: this.strings.notAllowed });
        return;
      }
      this._reopen();
    } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this._mediaRecoveries < 2) {
      this._mediaRecoveries += 1;
      if (this._mediaRecoveries === 2) hls.swapAudioCodec();
      hls.recoverMediaError();
    } else {
      this._fail({ userMessage: this.strings.error });
    }
  };

  /** The session expired (410) or the network failed: open a new session and resume where we were.
   *  Once at once; again after a pause if that did not help; a third failure in a row is shown. */
  CameraSource.prototype._reopen = function () {
    var self = this;
    if (this._reopening) return;
    if (this._reopens >= 3) {
      this._fail({ userMessage: this.strings.connectionLost });
      return;
    }
    var at = this.currentWall();
    if (at == null) at = this.target;
    var mode = this.mode;
    this._reopens = (this._reopens || 0) + 1;
    this._reopening = true;
    this.session = null;   // expired: nothing to close
    clearInterval(this._beatTimer);
    this._destroyHls();
    this.frags = null;
    this._setState("loading", this.strings.reconnecting);
    setTimeout(function () {
      self._reopening = false;
      if (mode === "live") self.goLive();
      else if (at != null) self._loadRecorded(at);
    }, this._reopens === 1 ? 0 : 3 * SECOND);
  };

  CameraSource.prototype._onEnded = function () {
    if (this.mode !== "recorded" || !this.window) return;
    var end = this.loadedEnd();
    if (end == null) return;
    var self = this;
    this.wantPlay = true;
    if (this.window.end < Date.now() - 5 * SECOND) {
      this._loadRecorded(end);  // the next stretch (gaps are skipped there too)
    } else {
      this._waitNewer(end);
    }
  };

  /** At the newest footage: the last frame stays on screen while the playlist is asked again every
   *  few seconds; as soon as it lists footage after ``end``, playback goes on from there. */
  CameraSource.prototype._waitNewer = function (end) {
    var self = this, gen = this._gen, session = this.session;
    this._setState("waiting", this.strings.waitingNewer);
    clearTimeout(this._pollTimer);
    this._pollTimer = setTimeout(function () {
      if (gen !== self._gen || !session || session !== self.session) return;
      var url = session.playlist + (session.playlist.indexOf("?") < 0 ? "?" : "&") + "start=" +
        encodeURIComponent(iso(end - SECOND)) + "&end=" + encodeURIComponent(iso(end + HOUR));
      fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (gen !== self._gen) return;
        if (r.status === 410) { self._reopen(); return; }
        return r.text().then(function (text) {
          if (gen !== self._gen) return;
          var newer = text.split(/\r?\n/).some(function (line) {
            return line.indexOf("#EXT-X-PROGRAM-DATE-TIME:") === 0 && Date.parse(line.slice(25)) >= end - 500;
          });
          if (newer) self._loadRecorded(end);
          else self._waitNewer(end);
        });
      }).catch(function () { if (gen === self._gen) self._waitNewer(end); });
    }, 5 * SECOND);
  };

  // What was on screen, for the heartbeat (watched.js).
  CameraSource.prototype._track = function () {
    var v = this.video;
    if (v.paused || v.seeking || v.readyState < 2) { this.watched.pause(); return; }
    var w = this.currentWall();
    if (w != null) this.watched.add(w, v.playbackRate);
  };

  CameraSource.prototype._startBeat = function () {
    var self = this;
    clearInterval(this._beatTimer);
    this._beatTimer = setInterval(function () { self.beat(); }, BEAT_MS);
  };

  CameraSource.prototype.beat = function () {
    var self = this, session = this.session;
    if (!session) return Promise.resolve();
    return this.watched.beat(session.beat)
      .then(function (r) { if (r.status === 410 && session === self.session) self._reopen(); })
      .catch(function () {});
  };

  /** End the session: the last watched ranges and "closing" (by beacon when the page goes away). */
  CameraSource.prototype.closeSession = function (unloading) {
    var session = this.session;
    if (!session) return;
    this._track();
    this.session = null;
    clearInterval(this._beatTimer);
    this.watched.close(session.beat, unloading);
  };


  CameraSource.prototype.thumbnailUrl = function (segment) {
    return this.session && this.session.thumbnail ? this.session.thumbnail.replace("{segment}", segment) : null;
  };

  CameraSource.prototype.destroy = function () {
    this.closeSession(true);
    this._gen += 1;
    clearTimeout(this._pollTimer);
    this._destroyHls();
  };

  // --- the timeline -----------------------------------------------------------------------------

  var TICK_STEPS = [10 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
                    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR];
  var MIN_VIEW = 2 * MINUTE;

  /**
   * A day of one camera (or the union of several): recorded spans, gaps with reasons, unknown
   * time, holds, incidents, preview pictures, ticks in local time and the playhead. Zoom with the
   * wheel or zoomBy(), pan by dragging the background, click to seek, drag the playhead to scrub.
   * Callbacks: onSeek(ms), onScrub(ms), onView(start, end).
   */
  function Timeline(root, options) {
    this.root = root;
    this.clock = options.clock;
    this.strings = options.strings || {};
    this.onSeek = options.onSeek || function () {};
    this.onScrub = options.onScrub || function () {};
    this.onView = options.onView || function () {};
    this.thumbUrl = options.thumbUrl || function () { return null; };
    this.data = { spans: [], holds: [], incidents: [], thumbnails: [] };
    this.zoomThumbs = null;
    this.playhead = null;
    this.interactedAt = 0;
    this._thumbEls = {};
    this._build();
  }

  Timeline.prototype._build = function () {
    var root = this.root;
    root.classList.add("sc-tl");
    root.innerHTML = "";
    this.thumbs = el("div", "sc-tl-thumbs");
    this.track = el("div", "sc-tl-track", { "data-testid": "timeline-track" });
    this.spansEl = el("div", "sc-tl-spans");
    this.holdsEl = el("div", "sc-tl-holds");
    this.incidentsEl = el("div", "sc-tl-incidents");
    this.track.appendChild(this.spansEl);
    this.track.appendChild(this.holdsEl);
    this.track.appendChild(this.incidentsEl);
    this.ticks = el("div", "sc-tl-ticks");
    this.head = el("div", "sc-tl-playhead", { "data-testid": "timeline-playhead" });
    this.handle = el("div", "sc-tl-handle", { role: "slider", tabindex: "-1", "aria-label": this.strings.playhead || "" });
    this.head.appendChild(this.handle);
    this.hover = el("div", "sc-tl-hover");
    this.hoverImg = el("img", "sc-tl-hover-img", { alt: "" });
    this.hoverText = el("div", "sc-tl-hover-text");
    this.hover.appendChild(this.hoverImg);
    this.hover.appendChild(this.hoverText);
    this.hover.hidden = true;
    this.cursor = el("div", "sc-tl-cursor");
    this.cursor.hidden = true;
    [this.thumbs, this.track, this.ticks, this.cursor, this.head, this.hover].forEach(function (n) { root.appendChild(n); });
    this._bind();
  };

  Timeline.prototype.setDay = function (dayStart, keepZoom) {
    var dayEnd = this.clock.addDays(dayStart, 1);
    this.dayStart = dayStart;
    this.dayEnd = dayEnd;
    var span = this.viewEnd - this.viewStart;
    if (keepZoom && span && span < dayEnd - dayStart && this.playhead != null && this.playhead >= dayStart && this.playhead < dayEnd) {
      this.setView(this.playhead - span / 2, this.playhead + span / 2);
    } else {
      this.setView(dayStart, dayEnd);
    }
  };

  Timeline.prototype.setView = function (start, end, silent) {
    var min = this.dayStart, max = this.dayEnd;
    var span = clamp(end - start, MIN_VIEW, max - min);
    start = clamp(start, min, max - span);
    this.viewStart = start;
    this.viewEnd = start + span;
    this.root.setAttribute("data-view-start", iso(this.viewStart));
    this.root.setAttribute("data-view-end", iso(this.viewEnd));
    this.render();
    if (!silent) this.onView(this.viewStart, this.viewEnd);
  };

  /** Zoom around ``anchor`` (the wheel: what is under the cursor stays there), or, from the buttons
   *  and keys, around the playhead, which moves to the middle. */
  Timeline.prototype.zoomBy = function (factor, anchor) {
    var span = clamp((this.viewEnd - this.viewStart) * factor, MIN_VIEW, this.dayEnd - this.dayStart);
    if (anchor == null) {
      var centre = this.playhead != null && this.playhead >= this.dayStart && this.playhead < this.dayEnd
        ? this.playhead : (this.viewStart + this.viewEnd) / 2;
      this.setView(centre - span / 2, centre + span / 2);
      return;
    }
    var ratio = (anchor - this.viewStart) / (this.viewEnd - this.viewStart);
    this.setView(anchor - ratio * span, anchor - ratio * span + span);
  };

  Timeline.prototype.fit = function () { this.setView(this.dayStart, this.dayEnd); };

  Timeline.prototype.setData = function (data) {
    this.data = {
      spans: (data.spans || []).map(function (s) {
        return { kind: s.kind, start: Date.parse(s.start), end: Date.parse(s.end), reason: s.reason,
                 label: s.reason_label || s.reason || "", detail: s.detail || "" };
      }),
      holds: (data.holds || []).map(function (h) {
        return { start: Date.parse(h.start), end: Date.parse(h.end), reason: h.reason || "", active: h.active !== false };
      }),
      incidents: (data.incidents || []).map(function (i) {
        return { start: Date.parse(i.start), end: Date.parse(i.end), note: i.note || "", by: i.created_by || "", hold: i.hold };
      }),
      thumbnails: (data.thumbnails || []).map(function (t) { return { segment: t.segment, at: Date.parse(t.at) }; })
    };
    this.render();
  };

  Timeline.prototype.setZoomThumbnails = function (list) {
    this.zoomThumbs = list ? list.map(function (t) { return { segment: t.segment, at: Date.parse(t.at) }; }) : null;
    this._renderThumbs();
  };

  Timeline.prototype.setPlayhead = function (ms) {
    this.playhead = ms;
    this._renderHead();
  };

  Timeline.prototype.pct = function (ms) { return (ms - this.viewStart) / (this.viewEnd - this.viewStart) * 100; };
  Timeline.prototype.msAt = function (clientX) {
    var rect = this.track.getBoundingClientRect();
    var ratio = clamp((clientX - rect.left) / rect.width, 0, 1);
    return this.viewStart + ratio * (this.viewEnd - this.viewStart);
  };

  Timeline.prototype._place = function (node, start, end) {
    var left = clamp(this.pct(start), -1, 101), right = clamp(this.pct(end), -1, 101);
    node.style.left = left + "%";
    node.style.width = Math.max(0, right - left) + "%";
  };

  Timeline.prototype.render = function () {
    if (this.viewEnd == null) return;
    var self = this, vs = this.viewStart, ve = this.viewEnd, clock = this.clock, s = this.strings;
    // Spans: recorded green, gap red (with the reason), unknown grey.
    this.spansEl.innerHTML = "";
    this.data.spans.forEach(function (span) {
      if (span.end <= vs || span.start >= ve) return;
      var node = el("div", "sc-tl-span sc-tl-" + span.kind);
      node.setAttribute("data-kind", span.kind);
      self._place(node, span.start, span.end);
      var label = clock.time(span.start, true) + "–" + clock.time(span.end, true);
      if (span.kind === "gap") label += " · " + (span.label || s.gap || "") + (span.detail ? ": " + span.detail : "");
      else if (span.kind === "unknown") label += " · " + (s.unknown || "");
      node.setAttribute("aria-label", label);
      self.spansEl.appendChild(node);
    });
    this.holdsEl.innerHTML = "";
    this.data.holds.forEach(function (hold) {
      if (hold.end <= vs || hold.start >= ve) return;
      var node = el("div", "sc-tl-hold" + (hold.active ? "" : " sc-tl-hold-released"));
      self._place(node, hold.start, hold.end);
      self.holdsEl.appendChild(node);
    });
    this.incidentsEl.innerHTML = "";
    this.data.incidents.forEach(function (incident) {
      if (incident.end <= vs || incident.start >= ve) return;
      var node = el("div", "sc-tl-incident");
      self._place(node, incident.start, incident.end);
      node.appendChild(el("span", "sc-tl-incident-flag"));
      self.incidentsEl.appendChild(node);
    });
    this._renderTicks();
    this._renderThumbs();
    this._renderHead();
  };

  Timeline.prototype._renderTicks = function () {
    var width = this.track.clientWidth || 800;
    var span = this.viewEnd - this.viewStart;
    var step = TICK_STEPS[TICK_STEPS.length - 1];
    for (var i = 0; i < TICK_STEPS.length; i++) {
      if (TICK_STEPS[i] / span * width >= 64) { step = TICK_STEPS[i]; break; }
    }
    var minor = step;
    for (var j = TICK_STEPS.length - 1; j >= 0; j--) {
      if (TICK_STEPS[j] <= step / 4 && step % TICK_STEPS[j] === 0) { minor = TICK_STEPS[j]; break; }
    }
    if (minor === step && step >= 2 * MINUTE) minor = step / 2;
    this.ticks.innerHTML = "";
    var count = 0;
    for (var t = this.clock.ceilLocal(this.viewStart, minor); t <= this.viewEnd && count < 400; t = this.clock.ceilLocal(t + 1, minor)) {
      count += 1;
      var major = Math.abs(this.clock.ceilLocal(t, step) - t) < 1;
      var tick = el("div", major ? "sc-tl-tick sc-tl-tick-major" : "sc-tl-tick");
      tick.style.left = this.pct(t) + "%";
      if (major) {
        var label = el("span", "sc-tl-label");
        label.textContent = this.clock.time(t, step < MINUTE);
        tick.appendChild(label);
      }
      this.ticks.appendChild(tick);
    }
  };

  Timeline.prototype._renderThumbs = function () {
    if (this.viewEnd == null) return;
    var self = this, list = this.zoomThumbs || this.data.thumbnails;
    var width = this.thumbs.clientWidth || 800, span = this.viewEnd - this.viewStart;
    var slot = 72, lastX = -Infinity, keep = {};
    this.thumbs.classList.toggle("sc-tl-thumbs-empty", !list.length);
    list.forEach(function (thumb) {
      if (thumb.at < self.viewStart || thumb.at >= self.viewEnd) return;
      var x = (thumb.at - self.viewStart) / span * width;
      if (x - lastX < slot) return;
      var url = self.thumbUrl(thumb.segment);
      if (!url) return;
      lastX = x;
      var node = self._thumbEls[thumb.segment];
      if (!node) {
        node = el("img", "sc-tl-thumb", { alt: "", loading: "lazy", draggable: "false" });
        node.src = url;
        node.addEventListener("error", function () { node.classList.add("sc-tl-thumb-missing"); });
        self._thumbEls[thumb.segment] = node;
      }
      node.setAttribute("data-at", iso(thumb.at));
      node.style.left = (x / width * 100) + "%";
      keep[thumb.segment] = true;
      if (node.parentNode !== self.thumbs) self.thumbs.appendChild(node);
    });
    Object.keys(this._thumbEls).forEach(function (key) {
      var node = self._thumbEls[key];
      if (!keep[key] && node.parentNode) node.parentNode.removeChild(node);
    });
  };

  Timeline.prototype.nearestThumb = function (ms) {
    var list = this.zoomThumbs || this.data.thumbnails, best = null, bestDist = Infinity;
    for (var i = 0; i < list.length; i++) {
      var d = Math.abs(list[i].at - ms);
      if (d < bestDist && list[i].at <= ms + 30 * SECOND) { best = list[i]; bestDist = d; }
    }
    var span = this.viewEnd - this.viewStart;
    return best && bestDist <= Math.max(2 * MINUTE, span / 40) ? best : null;
  };

  Timeline.prototype._renderHead = function () {
    var ms = this.playhead;
    if (ms == null || this.viewEnd == null || ms < this.viewStart || ms > this.viewEnd) {
      this.head.hidden = true;
      return;
    }
    this.head.hidden = false;
    this.head.style.left = this.pct(ms) + "%";
    this.root.setAttribute("data-playhead", iso(ms));
  };

  Timeline.prototype.spanAt = function (ms) {
    var spans = this.data.spans;
    for (var i = 0; i < spans.length; i++) if (spans[i].start <= ms && ms < spans[i].end) return spans[i];
    return null;
  };

  Timeline.prototype._describe = function (ms) {
    var s = this.strings, lines = [this.clock.format(ms)];
    var span = this.spanAt(ms);
    if (span) {
      if (span.kind === "recorded") lines.push(s.recorded || "");
      else if (span.kind === "gap") lines.push((s.gap || "") + ": " + (span.label || "") + (span.detail ? " — " + span.detail : ""));
      else lines.push(s.unknown || "");
    }
    this.data.holds.forEach(function (h) {
      if (h.start <= ms && ms < h.end) lines.push((s.hold || "") + (h.active ? "" : " (" + (s.released || "") + ")") + ": " + h.reason);
    });
    this.data.incidents.forEach(function (i) {
      if (i.start <= ms && ms < i.end) lines.push((s.incident || "") + ": " + i.note + (i.by ? " (" + i.by + ")" : ""));
    });
    return lines;
  };

  Timeline.prototype._showHover = function (clientX) {
    var ms = this.msAt(clientX);
    var rect = this.root.getBoundingClientRect();
    var x = clientX - rect.left;
    this.cursor.hidden = false;
    this.cursor.style.left = x + "px";
    var lines = this._describe(ms);
    this.hoverText.innerHTML = "";
    var self = this;
    lines.forEach(function (line, index) {
      var div = el("div", index === 0 ? "sc-tl-hover-time" : "");
      div.textContent = line;
      self.hoverText.appendChild(div);
    });
    var thumb = this.nearestThumb(ms);
    var url = thumb ? this.thumbUrl(thumb.segment) : null;
    if (url) {
      if (this.hoverImg.getAttribute("src") !== url) this.hoverImg.src = url;
      this.hoverImg.hidden = false;
    } else {
      this.hoverImg.hidden = true;
    }
    this.hover.hidden = false;
    var w = this.hover.offsetWidth || 200;
    this.hover.style.left = clamp(x - w / 2, 0, Math.max(0, rect.width - w)) + "px";
  };

  Timeline.prototype._hideHover = function () { this.hover.hidden = true; this.cursor.hidden = true; };

  Timeline.prototype._bind = function () {
    var self = this, root = this.root;
    var drag = null;
    root.addEventListener("wheel", function (event) {
      event.preventDefault();
      self.interactedAt = Date.now();
      var dy = event.deltaY || event.deltaX;
      if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
        var shift = (event.deltaX || event.deltaY) / (self.track.clientWidth || 800) * (self.viewEnd - self.viewStart);
        self.setView(self.viewStart + shift, self.viewEnd + shift);
      } else {
        self.zoomBy(dy > 0 ? 1.25 : 0.8, self.msAt(event.clientX));
      }
    }, { passive: false });
    root.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      self.interactedAt = Date.now();
      var onHead = event.target === self.handle || event.target === self.head;
      drag = { x: event.clientX, start: self.viewStart, end: self.viewEnd, head: onHead, moved: false, id: event.pointerId };
      try { root.setPointerCapture(event.pointerId); } catch (e) { /* not capturable */ }
      if (onHead) root.classList.add("sc-tl-scrubbing");
      event.preventDefault();
    });
    root.addEventListener("pointermove", function (event) {
      if (!drag) { self._showHover(event.clientX); return; }
      self.interactedAt = Date.now();
      var dx = event.clientX - drag.x;
      if (!drag.moved && Math.abs(dx) < 4) return;
      drag.moved = true;
      if (drag.head) {
        var ms = self.msAt(event.clientX);
        self.setPlayhead(ms);
        self._showHover(event.clientX);
        self.onScrub(ms);
      } else {
        root.classList.add("sc-tl-panning");
        self._hideHover();
        var shift = -dx / (self.track.clientWidth || 800) * (drag.end - drag.start);
        self.setView(drag.start + shift, drag.end + shift);
      }
    });
    var finish = function (event, cancelled) {
      if (!drag) return;
      var d = drag;
      drag = null;
      root.classList.remove("sc-tl-panning", "sc-tl-scrubbing");
      if (cancelled) return;
      if (d.head || !d.moved) self.onSeek(self.msAt(event.clientX), { scrub: d.head && d.moved });
    };
    root.addEventListener("pointerup", function (event) { finish(event, false); });
    root.addEventListener("pointercancel", function (event) { finish(event, true); });
    root.addEventListener("pointerleave", function () { if (!drag) self._hideHover(); });
    if (global.ResizeObserver) new ResizeObserver(function () { self.render(); }).observe(root);
  };

  // --- shared controls --------------------------------------------------------------------------

  /** Space, arrows, +/-, L, [ ]: the keys a VMS operator expects, ignored while typing in a field. */
  function bindKeys(actions) {
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      var key = event.key, handled = true;
      if (key === " " || key === "Spacebar") actions.toggle();
      else if (key === "ArrowLeft") actions.jump(event.shiftKey ? -MINUTE : -10 * SECOND);
      else if (key === "ArrowRight") actions.jump(event.shiftKey ? MINUTE : 10 * SECOND);
      else if (key === "+" || key === "=") actions.zoom(0.5);
      else if (key === "-" || key === "_") actions.zoom(2);
      else if (key === "l" || key === "L") actions.live();
      else if (key === "[") actions.speedStep(-1);
      else if (key === "]") actions.speedStep(1);
      else handled = false;
      if (handled) event.preventDefault();
    });
  }

  function toggle(node, show) { if (node) node.hidden = !show; }

  /** A floating panel toggled by a button; closes on Escape or a click elsewhere. */
  function popover(button, panel) {
    if (!button || !panel) return null;
    var api_ = {
      open: function () { panel.hidden = false; button.setAttribute("aria-expanded", "true"); },
      close: function () { panel.hidden = true; button.setAttribute("aria-expanded", "false"); },
      toggle: function () { if (panel.hidden) api_.open(); else api_.close(); }
    };
    button.addEventListener("click", function (event) { event.stopPropagation(); api_.toggle(); });
    document.addEventListener("click", function (event) {
      if (!panel.hidden && !panel.contains(event.target) && event.target !== button) api_.close();
    });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape") api_.close(); });
    return api_;
  }

  /**
   * What the single-camera player and the grid share: the clock read-out, the transport buttons,
   * the date-time picker, the day selector and the timeline. Subclasses provide the sources.
   */
  function BasePlayer(root, config) {
    this.root = root;
    this.config = config;
    this.strings = readStrings(root);
    this.clock = new ZoneClock(config.time_zone, config.locale);
    this.live = false;
    this.playing = false;
    this.speed = 1;
    this.wall = null;          // wall-clock instant on screen (the master's)
    this.day = null;
    this._dayRequest = 0;
    this._zoomRequest = 0;
    this._lastInput = 0;
  }

  BasePlayer.prototype.q = function (name) { return $(this.root, "[data-sc='" + name + "']"); };

  BasePlayer.prototype._setupCommon = function (timelineRoot) {
    var self = this;
    this.clockEl = this.q("clock");
    this.statusEl = this.q("status");
    this.stateEl = this.q("state");
    this.latencyEl = this.q("latency");
    this.playBtn = this.q("play");
    this.liveBtn = this.q("live");
    this.speedSel = this.q("speed");
    this.dtInput = this.q("datetime");
    this.dayLabel = this.q("day-label");
    this.timeline = new Timeline(timelineRoot, {
      clock: this.clock, strings: this.strings,
      // A click plays from there; a dropped playhead goes on as before the drag.
      onSeek: function (ms, info) { self.seek(ms, info && info.scrub ? undefined : true); },
      onScrub: function (ms) { self.scrub(ms); },
      onView: function (start, end) { self._onView(start, end); },
      thumbUrl: function (segment) { return self.thumbUrl(segment); }
    });
    if (this.playBtn) this.playBtn.addEventListener("click", function () { self.toggle(); });
    $$(this.root, "[data-sc-jump]").forEach(function (button) {
      button.addEventListener("click", function () { self.jump(parseInt(button.getAttribute("data-sc-jump"), 10) * SECOND); });
    });
    if (this.speedSel) this.speedSel.addEventListener("change", function () { self.setSpeed(parseFloat(self.speedSel.value)); });
    if (this.liveBtn) this.liveBtn.addEventListener("click", function () { self.toggleLive(); });
    if (this.liveBtn && !this.canLive()) this.liveBtn.hidden = true;
    var go = function () {
      var ms = self.clock.parseInput(self.dtInput.value);
      if (!isNaN(ms)) self.seek(ms, true);
    };
    if (this.dtInput) {
      // Enter or "Go" (not every change: typing a time changes it field by field).
      this.dtInput.addEventListener("keydown", function (event) { if (event.key === "Enter") { event.preventDefault(); go(); } });
    }
    var goBtn = this.q("go");
    if (goBtn) goBtn.addEventListener("click", go);
    var on = function (name, fn) { var node = self.q(name); if (node) node.addEventListener("click", fn); };
    on("day-prev", function () { self.showDay(self.clock.addDays(self.day, -1)); });
    on("day-next", function () { self.showDay(self.clock.addDays(self.day, 1)); });
    on("day-today", function () { self.showDay(self.clock.dayStart(Date.now())); });
    on("zoom-in", function () { self.timeline.zoomBy(0.5); });
    on("zoom-out", function () { self.timeline.zoomBy(2); });
    on("zoom-fit", function () { self.timeline.fit(); });
    popover(this.q("help-toggle"), this.q("help"));
    bindKeys({
      toggle: function () { self.toggle(); },
      jump: function (ms) { self.jump(ms); },
      zoom: function (factor) { self.timeline.zoomBy(factor); },
      live: function () { if (self.canLive()) self.toggleLive(); },
      speedStep: function (step) {
        var index = clamp(SPEEDS.indexOf(self.speed) + step, 0, SPEEDS.length - 1);
        self.setSpeed(SPEEDS[index]);
      }
    });
    var loop = function () { self._tick(); global.requestAnimationFrame(loop); };
    global.requestAnimationFrame(loop);
    setInterval(function () { self._refreshToday(); }, 30 * SECOND);
    global.addEventListener("pagehide", function () { self.sources().forEach(function (s) { s.closeSession(true); }); });
  };

  BasePlayer.prototype.canLive = function () { return false; };
  BasePlayer.prototype.thumbUrl = function () { return null; };
  BasePlayer.prototype.sources = function () { return []; };

  BasePlayer.prototype._renderClock = function () {
    var ms = this.wall;
    if (ms == null || !this.clockEl) return;
    var text = this.clock.format(ms);
    if (this.clockEl.textContent !== text) this.clockEl.textContent = text;
    var stamp = iso(ms);
    if (this.clockEl.getAttribute("data-time") !== stamp) this.clockEl.setAttribute("data-time", stamp);
    this.timeline.setPlayhead(ms);
    if (this.dtInput && document.activeElement !== this.dtInput && Date.now() - this._lastInput > 1000) {
      this._lastInput = Date.now();
      var value = this.clock.inputValue(ms);
      if (this.dtInput.value !== value) this.dtInput.value = value;
    }
    if (this.latencyEl) {
      this.latencyEl.hidden = !this.live;
      if (this.live) this.latencyEl.textContent = fmt("−%(s)s s", { s: Math.max(0, Math.round((Date.now() - ms) / SECOND)) });
    }
  };

  /** Keep the playhead in view while playing: page the view along, switch day at midnight. */
  BasePlayer.prototype._follow = function () {
    var ms = this.wall, tl = this.timeline;
    if (ms == null || !this.playing || Date.now() - tl.interactedAt < 5 * SECOND) return;
    if (ms >= tl.dayEnd || ms < tl.dayStart) { this.showDay(this.clock.dayStart(ms), true); return; }
    if (ms > tl.viewEnd || ms < tl.viewStart) {
      var span = tl.viewEnd - tl.viewStart;
      tl.setView(ms - span * 0.1, ms + span * 0.9);
    }
  };

  BasePlayer.prototype._setPlayingUi = function (playing) {
    this.playing = playing;
    if (!this.playBtn) return;
    this.playBtn.setAttribute("aria-pressed", playing ? "true" : "false");
    this.playBtn.setAttribute("title", playing ? this.strings.pause : this.strings.play);
    this.playBtn.setAttribute("aria-label", playing ? this.strings.pause : this.strings.play);
    var icon = this.playBtn.querySelector("i");
    if (icon) icon.className = playing ? "bi bi-pause-fill" : "bi bi-play-fill";
  };

  BasePlayer.prototype._setLiveUi = function (live) {
    this.live = live;
    this.root.classList.toggle("sc-live", live);
    if (this.liveBtn) {
      this.liveBtn.setAttribute("aria-pressed", live ? "true" : "false");
      this.liveBtn.classList.toggle("active", live);
    }
    var mode = this.q("mode");
    if (mode) mode.textContent = live ? this.strings.modeLive : this.strings.modeRecorded;
    if (this.speedSel) this.speedSel.disabled = live;
  };

  BasePlayer.prototype.setSpeed = function (speed) {
    if (SPEEDS.indexOf(speed) < 0) speed = 1;
    this.speed = speed;
    if (this.speedSel) this.speedSel.value = String(speed);
    this.sources().forEach(function (source) { source.setRate(speed); });
  };

  BasePlayer.prototype.jump = function (delta) {
    var at = this.wall;
    if (at == null) return;
    var target = at + delta;
    if (this.live) {
      if (delta > 0) return;
      if (!this.canRecorded()) return;
    }
    this.seek(Math.min(target, Date.now() - 5 * SECOND));
  };

  BasePlayer.prototype.scrub = function (ms) {
    var now = Date.now();
    if (!this._scrubbing) {  // playing before the drag: playing again after it
      this._scrubbing = true;
      this._scrubResume = this.isPlaying();
    }
    this.wall = ms;
    if (now - (this._lastScrub || 0) < 250) return;
    this._lastScrub = now;
    this.sources().forEach(function (source) {
      if (source.canSeekTo(ms)) source.playAt(ms, { play: false });
    });
  };

  BasePlayer.prototype.canRecorded = function () { return true; };
  BasePlayer.prototype.isPlaying = function () { return this.playing; };

  /** Whether a seek should play: as before a drag of the playhead, else as now. */
  BasePlayer.prototype._playAfterSeek = function (now) {
    if (!this._scrubbing) return now;
    this._scrubbing = false;
    return this._scrubResume;
  };

  BasePlayer.prototype.showDay = function (dayStart, follow) {
    var today = this.clock.dayStart(Date.now());
    if (dayStart > today) dayStart = today;
    var changed = dayStart !== this.day;
    this.day = dayStart;
    if (this.dayLabel) this.dayLabel.textContent = this.clock.dayLabel(dayStart);
    var next = this.q("day-next");
    if (next) next.disabled = dayStart >= today;
    var todayBtn = this.q("day-today");
    if (todayBtn) todayBtn.disabled = dayStart >= today;
    if (changed || this.timeline.dayStart !== dayStart) this.timeline.setDay(dayStart, !!follow);
    if (changed) this.loadDay();
  };

  BasePlayer.prototype._refreshToday = function () {
    if (this.day != null && this.clock.addDays(this.day, 1) > Date.now() - MINUTE) this.loadDay();
  };

  BasePlayer.prototype._onView = function (start, end) {
    var self = this;
    clearTimeout(this._zoomTimer);
    if (end - start > 3 * HOUR) { this.timeline.setZoomThumbnails(null); return; }
    this._zoomTimer = setTimeout(function () { self.loadZoomThumbnails(start, end); }, 350);
  };

  BasePlayer.prototype.loadZoomThumbnails = function () {};

  BasePlayer.prototype._overlay = function (state, message) {
    if (!this.stateEl) return;
    var busy = state === "loading" || state === "buffering";
    this.stateEl.hidden = !(busy || message);
    this.stateEl.classList.toggle("sc-busy", busy);
    var text = this.stateEl.querySelector("[data-sc='state-text']");
    if (text) text.textContent = message || (busy ? this.strings.loading : "");
  };

  // --- one camera -------------------------------------------------------------------------------

  function SafeCamPlayer(root, config) {
    BasePlayer.call(this, root, config);
    var self = this;
    this.video = this.q("video");
    this.source = new CameraSource(this.video, config, this.strings);
    this._setupCommon(this.q("timeline"));
    this.source.on("state", function (e) { self._onState(e.state, e.message); });
    this.source.on("session", function () { self.timeline.render(); });
    this._frameClock();
    this._setupStill();
    this._setupIncident();
    this._setLiveUi(false);
    this._setPlayingUi(false);
    this.start();
  }
  SafeCamPlayer.prototype = Object.create(BasePlayer.prototype);

  SafeCamPlayer.prototype.sources = function () { return [this.source]; };
  SafeCamPlayer.prototype.canLive = function () { return !!this.config.can_live; };
  SafeCamPlayer.prototype.canRecorded = function () { return this.config.can_recorded !== false; };
  SafeCamPlayer.prototype.thumbUrl = function (segment) { return this.source.thumbnailUrl(segment); };

  SafeCamPlayer.prototype.start = function () {
    var self = this, cfg = this.config;
    if ((cfg.live || !this.canRecorded()) && this.canLive()) {
      this.showDay(this.clock.dayStart(Date.now()));
      this.goLive();
      return;
    }
    if (cfg.start) {
      var at = Date.parse(cfg.start);
      this.wall = at;
      this.showDay(this.clock.dayStart(at));
      this._renderClock();
      this.source.playAt(at, { play: !!cfg.autoplay });
      return;
    }
    // The newest footage: usually within the last hour, found by that hour's playlist; else the
    // timeline of the last week says where it is.
    this.showDay(this.clock.dayStart(Date.now()));
    this.source.openNewest({ play: !!cfg.autoplay }).then(function (ms) {
      if (ms != null) return ms;
      return self.newestFootage().then(function (older) {
        if (older != null) self.source.playAt(older, { play: !!cfg.autoplay });
        return older;
      });
    }).then(function (ms) {
      if (ms == null) {
        self.wall = null;
        self._overlay("nofootage", self.strings.noFootageYet);
        return;
      }
      self.wall = ms;
      self.showDay(self.clock.dayStart(ms));
      self._renderClock();
    });
  };

  /** Where to open without a given time: a minute before the end of the newest recorded footage. */
  SafeCamPlayer.prototype.newestFootage = function () {
    var self = this, now = Date.now(), today = this.clock.dayStart(now);
    var lastRecorded = function (data) {
      var spans = (data && data.spans) || [];
      for (var i = spans.length - 1; i >= 0; i--) if (spans[i].kind === "recorded") return spans[i];
      return null;
    };
    var fetchRange = function (start, end) {
      return api(self.config.timeline_url + "?start=" + encodeURIComponent(iso(start)) + "&end=" + encodeURIComponent(iso(end)))
        .then(function (r) { return r.ok ? r.data : null; }, function () { return null; });
    };
    return fetchRange(self.clock.addDays(today, -7), now).then(lastRecorded).then(function (span) {
      if (!span) return null;
      var start = Date.parse(span.start), end = Date.parse(span.end);
      return Math.max(start, end - MINUTE);
    });
  };

  SafeCamPlayer.prototype.loadDay = function () {
    var self = this, day = this.day, request = ++this._dayRequest;
    if (this._dayData && this._dayData.day === day) {
      var cached = this._dayData.data;
      this._dayData = null;
      this.timeline.setData(cached);
      return Promise.resolve();
    }
    var end = this.clock.addDays(day, 1);
    var url = this.config.timeline_url + "?start=" + encodeURIComponent(iso(day)) + "&end=" + encodeURIComponent(iso(end));
    return api(url).then(function (r) {
      if (request !== self._dayRequest || !r.ok) return;
      self.timeline.setData(r.data);
    }).catch(function () {});
  };

  SafeCamPlayer.prototype.loadZoomThumbnails = function (start, end) {
    var self = this, request = ++this._zoomRequest;
    var url = this.config.timeline_url + "?start=" + encodeURIComponent(iso(start)) + "&end=" + encodeURIComponent(iso(end));
    api(url).then(function (r) {
      if (request === self._zoomRequest && r.ok) self.timeline.setZoomThumbnails(r.data.thumbnails || []);
    }).catch(function () {});
  };

  SafeCamPlayer.prototype._frameClock = function () {
    var self = this, video = this.video;
    var update = function (mediaTime) {
      var w = self.source.currentWall(mediaTime);
      if (w != null) self.wall = w;
      self._renderClock();
    };
    if (video.requestVideoFrameCallback) {
      var onFrame = function (now, meta) {
        update(meta && meta.mediaTime != null ? meta.mediaTime : null);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
    ["timeupdate", "seeked", "pause", "loadeddata"].forEach(function (name) {
      video.addEventListener(name, function () { update(null); });
    });
  };

  SafeCamPlayer.prototype._tick = function () {
    if (!this.video.paused && !this.video.requestVideoFrameCallback) {
      var w = this.source.currentWall();
      if (w != null) this.wall = w;
      this._renderClock();
    }
    this._follow();
  };

  SafeCamPlayer.prototype._onState = function (state, message) {
    this._setPlayingUi(state === "playing" || ((state === "buffering" || state === "loading") && this.source.wantPlay));
    this.root.setAttribute("data-state", state);
    this._overlay(state, state === "nofootage" || state === "error" || state === "waiting" ? message : (state === "loading" ? message : ""));
  };

  SafeCamPlayer.prototype.toggle = function () {
    if (this.source.wantPlay && !this.video.paused) this.source.pause();
    else this.source.play();
  };

  /** Show instant ``ms``; ``play``: true to play from there, undefined to keep playing or paused. */
  SafeCamPlayer.prototype.seek = function (ms, play) {
    if (!this.canRecorded()) return;
    if (ms > Date.now()) ms = Date.now() - 5 * SECOND;
    play = this._playAfterSeek(play != null ? play : (this.live || this.source.wantPlay));
    if (this.live) this._setLiveUi(false);
    this.wall = ms;
    this._lastInput = 0;
    this._renderClock();
    this.source.setRate(this.speed);
    this.source.playAt(ms, { play: play });
  };

  SafeCamPlayer.prototype.goLive = function () {
    if (!this.canLive()) return;
    this._setLiveUi(true);
    this.showDay(this.clock.dayStart(Date.now()));
    this.source.goLive();
  };

  SafeCamPlayer.prototype.toggleLive = function () {
    if (this.live) {
      if (!this.canRecorded()) return;
      var at = this.wall != null ? this.wall : Date.now() - MINUTE;
      this._setLiveUi(false);
      this.source.setRate(this.speed);
      this.source.playAt(at, { play: true });
    } else {
      this.goLive();
    }
  };

  SafeCamPlayer.prototype._setupStill = function () {
    var self = this, link = this.q("still");
    if (!link || !this.config.still_url) return;
    link.addEventListener("click", function (event) {
      if (self.wall == null) { event.preventDefault(); return; }
      link.href = self.config.still_url + "?at=" + encodeURIComponent(iso(Math.floor(self.wall)));
      link.setAttribute("download", "");
    });
  };

  SafeCamPlayer.prototype._setupIncident = function () {
    var self = this, button = this.q("incident"), panel = this.q("incident-form");
    if (!button || !panel || !this.config.incident_url) return;
    var form = panel.querySelector("form");
    var from = form.querySelector("[name=start]"), to = form.querySelector("[name=end]");
    var note = form.querySelector("[name=note]"), hold = form.querySelector("[name=place_hold]");
    var errors = form.querySelector("[data-sc='incident-errors']");
    var submit = form.querySelector("[type=submit]");
    var pop = popover(button, panel);
    button.addEventListener("click", function () {
      if (panel.hidden) return;
      var at = self.wall != null ? self.wall : Date.now();
      from.value = self.clock.inputValue(at - 30 * SECOND);
      to.value = self.clock.inputValue(Math.min(at + 30 * SECOND, Date.now()));
      errors.hidden = true;
      $$(form, ".is-invalid").forEach(function (n) { n.classList.remove("is-invalid"); });
      note.focus();
    });
    $$(panel, "[data-sc='incident-cancel']").forEach(function (n) { n.addEventListener("click", function () { pop.close(); }); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var start = self.clock.parseInput(from.value), end = self.clock.parseInput(to.value);
      var body = { camera: self.config.camera, start: isNaN(start) ? from.value : iso(start),
                   end: isNaN(end) ? to.value : iso(end), note: note.value, place_hold: !!(hold && hold.checked) };
      submit.disabled = true;
      api(self.config.incident_url, { method: "POST", body: body, csrf: self.config.csrf_token }).then(function (r) {
        submit.disabled = false;
        if (r.status === 201 || r.status === 200) {
          pop.close();
          note.value = "";
          if (hold) hold.checked = false;
          self.toast(self.strings.incidentSaved);
          self.loadDay();
          return;
        }
        var data = r.data || {};
        var fields = { start: from, end: to, note: note, place_hold: hold };
        Object.keys(fields).forEach(function (k) { if (fields[k]) fields[k].classList.toggle("is-invalid", k in data); });
        errors.textContent = errorText(data) || self.strings.incidentFailed;
        errors.hidden = false;
      }, function () {
        submit.disabled = false;
        errors.textContent = self.strings.incidentFailed;
        errors.hidden = false;
      });
    });
  };

  SafeCamPlayer.prototype.toast = function (message) {
    var node = this.q("toast");
    if (!node) return;
    node.textContent = message;
    node.hidden = false;
    clearTimeout(this._toastTimer);
    this._toastTimer = setTimeout(function () { node.hidden = true; }, 4000);
  };

  // --- every camera of a site, in sync -------------------------------------------------------------

  /**
   * The grid: one CameraSource per camera on one wall clock. The master is the first camera with
   * footage on screen; every 250 ms the others are compared with it and nudged (playbackRate ±20 %)
   * beyond 0.5 s of drift, seeked beyond 3 s, or held paused while they wait for the master to
   * reach their next footage. One timeline (the union of the cameras' recorded time) seeks them all.
   */
  function SafeCamGrid(root, config) {
    BasePlayer.call(this, root, config);
    var self = this;
    this.tiles = $$(root, "[data-sc-tile]").map(function (tile) {
      var uuid = tile.getAttribute("data-sc-tile");
      var camConfig = config.cameras.filter(function (c) { return c.camera === uuid; })[0];
      if (!camConfig) return null;
      camConfig = Object.assign({}, camConfig, { csrf_token: camConfig.csrf_token || config.csrf_token });
      var video = tile.querySelector("video");
      var source = new CameraSource(video, camConfig, self.strings);
      var t = { root: tile, config: camConfig, source: source, video: video, held: false,
                stateEl: tile.querySelector("[data-sc='tile-state']"), clockEl: tile.querySelector("[data-sc='tile-clock']") };
      source.on("state", function (e) { self._onTileState(t, e.state, e.message); });
      source.on("session", function () { if (t === self.tiles[0]) self.timeline.render(); });
      return t;
    }).filter(Boolean);
    this._setupCommon(this.q("timeline"));
    this._setLiveUi(false);
    this._setPlayingUi(false);
    this.wantPlay = false;
    setInterval(function () { self._sync(); }, 250);
    this.start();
  }
  SafeCamGrid.prototype = Object.create(BasePlayer.prototype);

  SafeCamGrid.prototype.sources = function () { return this.tiles.map(function (t) { return t.source; }); };
  SafeCamGrid.prototype.canLive = function () { return this.tiles.some(function (t) { return t.config.can_live; }); };
  SafeCamGrid.prototype.canRecorded = function () { return this.tiles.some(function (t) { return t.config.can_recorded !== false; }); };
  SafeCamGrid.prototype.thumbUrl = function (segment) { return this.tiles.length ? this.tiles[0].source.thumbnailUrl(segment) : null; };

  SafeCamGrid.prototype._recordedTiles = function () { return this.tiles.filter(function (t) { return t.config.can_recorded !== false; }); };

  SafeCamGrid.prototype.start = function () {
    var self = this, cfg = this.config;
    if ((cfg.live || !this.canRecorded()) && this.canLive()) {
      this.showDay(this.clock.dayStart(Date.now()));
      this.goLive();
      return;
    }
    this._recordedTiles().forEach(function (t) { t.source.prepare("recorded"); });
    var day = this.clock.dayStart(Date.now());
    var opening = cfg.start ? Promise.resolve(Date.parse(cfg.start)) : this._fetchDay(day).then(function (merged) {
      self._dayData = { day: day, data: merged };
      var spans = merged.spans.filter(function (s) { return s.kind === "recorded"; });
      if (!spans.length) return null;
      var last = spans[spans.length - 1];
      return Math.max(Date.parse(last.start), Date.parse(last.end) - MINUTE);
    });
    opening.then(function (ms) {
      if (ms == null) ms = Date.now() - MINUTE;
      self.wall = ms;
      self._anchor = ms;
      self._anchorAt = Date.now();
      self.showDay(self.clock.dayStart(ms));
      self._renderClock();
      self.wantPlay = !!cfg.autoplay;
      self._recordedTiles().forEach(function (t) { t.source.playAt(ms, { play: self.wantPlay }); });
    });
  };

  /** The cameras' timelines for a day, merged: recorded where any camera recorded. */
  SafeCamGrid.prototype._fetchDay = function (day, end) {
    var self = this;
    end = end || this.clock.addDays(day, 1);
    var query = "?start=" + encodeURIComponent(iso(day)) + "&end=" + encodeURIComponent(iso(end));
    return Promise.all(this.tiles.map(function (t) {
      return api(t.config.timeline_url + query).then(function (r) { return r.ok ? r.data : null; }, function () { return null; });
    })).then(function (results) { return self._merge(results.filter(Boolean)); });
  };

  SafeCamGrid.prototype._merge = function (results) {
    if (!results.length) return { spans: [], holds: [], incidents: [], thumbnails: [] };
    var recorded = [];
    results.forEach(function (r) {
      r.spans.forEach(function (s) { if (s.kind === "recorded") recorded.push([Date.parse(s.start), Date.parse(s.end)]); });
    });
    recorded.sort(function (a, b) { return a[0] - b[0]; });
    var union = [];
    recorded.forEach(function (r) {
      var last = union[union.length - 1];
      if (last && r[0] <= last[1] + SECOND) last[1] = Math.max(last[1], r[1]);
      else union.push([r[0], r[1]]);
    });
    // Outside the union, the first camera's gap or unknown spans, clipped.
    var spans = [];
    union.forEach(function (u) { spans.push({ kind: "recorded", start: iso(u[0]), end: iso(u[1]) }); });
    results[0].spans.forEach(function (s) {
      if (s.kind === "recorded") return;
      var pieces = [[Date.parse(s.start), Date.parse(s.end)]];
      union.forEach(function (u) {
        var next = [];
        pieces.forEach(function (p) {
          if (u[1] <= p[0] || u[0] >= p[1]) { next.push(p); return; }
          if (u[0] > p[0]) next.push([p[0], u[0]]);
          if (u[1] < p[1]) next.push([u[1], p[1]]);
        });
        pieces = next;
      });
      pieces.forEach(function (p) {
        if (p[1] - p[0] >= SECOND) spans.push({ kind: s.kind, start: iso(p[0]), end: iso(p[1]), reason: s.reason,
                                                reason_label: s.reason_label, detail: s.detail });
      });
    });
    spans.sort(function (a, b) { return Date.parse(a.start) - Date.parse(b.start); });
    var holds = [], incidents = [];
    results.forEach(function (r) { holds = holds.concat(r.holds || []); incidents = incidents.concat(r.incidents || []); });
    return { spans: spans, holds: holds, incidents: incidents, thumbnails: results[0].thumbnails || [] };
  };

  SafeCamGrid.prototype.loadDay = function () {
    var self = this, day = this.day, request = ++this._dayRequest;
    if (this._dayData && this._dayData.day === day) {
      var cached = this._dayData.data;
      this._dayData = null;
      this.timeline.setData(cached);
      return Promise.resolve();
    }
    return this._fetchDay(day).then(function (merged) {
      if (request === self._dayRequest) self.timeline.setData(merged);
    });
  };

  SafeCamGrid.prototype.loadZoomThumbnails = function (start, end) {
    var self = this, request = ++this._zoomRequest, first = this.tiles[0];
    if (!first) return;
    var url = first.config.timeline_url + "?start=" + encodeURIComponent(iso(start)) + "&end=" + encodeURIComponent(iso(end));
    api(url).then(function (r) {
      if (request === self._zoomRequest && r.ok) self.timeline.setZoomThumbnails(r.data.thumbnails || []);
    }).catch(function () {});
  };

  /** The camera whose clock the others follow: of those with a frame on screen and not waiting, the
   *  one furthest back (a camera ahead shows the footage after a gap of its own). */
  SafeCamGrid.prototype._master = function () {
    var best = null, bestWall = Infinity;
    for (var i = 0; i < this.tiles.length; i++) {
      var t = this.tiles[i], st = t.source.state;
      if (t.held || !(st === "playing" || st === "paused")) continue;
      var w = t.source.currentWall();
      if (w != null && w < bestWall - 250) { best = t; bestWall = w; }
    }
    return best;
  };

  SafeCamGrid.prototype._sync = function () {
    var master = this._master();
    if (!master) return;
    var mw = master.source.currentWall();
    if (mw == null) return;
    if (this._anchor != null) {
      // Just sent everyone to one moment: until a camera shows it, the others are only showing
      // what comes after their gaps, and the clock stays on the moment asked for.
      if (Math.abs(mw - this._anchor) > 1500 && Date.now() - this._anchorAt < 3000) return;
      this._anchor = null;
    }
    if (!this._scrubbing) this.wall = mw;
    if (this.live) return;   // near-live: each camera at its own live edge
    var self = this, now = Date.now();
    this.tiles.forEach(function (t) {
      if (t === master || t.config.can_recorded === false) return;
      var s = t.source, v = t.video;
      if (s.state === "loading" || s.mode !== "recorded") return;
      if (s.state === "nofootage" || s.state === "error" || s.state === "waiting") {
        // Try again now and then: the master may have reached time this camera recorded.
        if (self.wantPlay && now - (t.retriedAt || 0) > 10 * SECOND) { t.retriedAt = now; s.playAt(mw, { play: true }); }
        return;
      }
      var w = s.currentWall();
      if (w == null) return;
      var drift = (w - mw) / SECOND;
      if (t.held) {
        if (drift <= 0.25) { t.held = false; if (self.wantPlay) s.play(); }
        return;
      }
      // The master's moment is in a gap of this camera: it shows the first frame after the gap
      // and waits there (paused) for the master to get there.
      var next = self._nextFootage(t, mw);
      if (next != null) {
        if (Math.abs(w - next) > 500 && !v.seeking && now - (t.seekedAt || 0) > 2 * SECOND) {
          t.seekedAt = now;
          s.playAt(next, { play: false });
        }
        if (!v.paused) v.pause();
        t.held = self.wantPlay;
        return;
      }
      if (Math.abs(drift) > 3 || (!self.wantPlay && Math.abs(drift) > 0.5)) {
        if (!v.seeking && now - (t.seekedAt || 0) > 2 * SECOND) { t.seekedAt = now; s.playAt(mw, { play: self.wantPlay }); }
        return;
      }
      if (!self.wantPlay) return;
      if (Math.abs(drift) > 0.5) v.playbackRate = self.speed * (drift > 0 ? 0.8 : 1.25);
      else if (Math.abs(drift) < 0.15 && v.playbackRate !== self.speed) v.playbackRate = self.speed;
    });
  };

  /** When instant ``ms`` falls in a gap of this camera's loaded footage: the instant its footage
   *  resumes; else null. */
  SafeCamGrid.prototype._nextFootage = function (t, ms) {
    var s = t.source;
    if (!s.canSeekTo(ms)) return null;
    var next = s.wallAt(s.positionFor(ms));
    return next != null && next > ms + 500 ? next : null;
  };

  SafeCamGrid.prototype._tick = function () {
    this._renderClock();
    var self = this;
    this.tiles.forEach(function (t) {
      if (!t.clockEl) return;
      var w = t.source.currentWall();
      var text = w == null ? "" : self.clock.time(w, true);
      if (t.clockEl.textContent !== text) t.clockEl.textContent = text;
    });
    this._follow();
  };

  SafeCamGrid.prototype._onTileState = function (t, state, message) {
    t.root.setAttribute("data-state", state);
    if (t.stateEl) {
      var busy = state === "loading" || state === "buffering";
      var text = state === "nofootage" ? this.strings.noFootageNow : (state === "error" || state === "waiting" ? message : "");
      t.stateEl.hidden = !(busy || text);
      t.stateEl.classList.toggle("sc-busy", busy);
      var label = t.stateEl.querySelector("[data-sc='state-text']");
      if (label) label.textContent = text || (busy ? this.strings.loading : "");
    }
    var anyPlaying = this.tiles.some(function (x) { return x.source.state === "playing"; });
    this._setPlayingUi(anyPlaying || this.wantPlay);
  };

  SafeCamGrid.prototype.toggle = function () {
    if (this.wantPlay) {
      this.wantPlay = false;
      this.tiles.forEach(function (t) { t.held = false; t.source.pause(); });
      this._setPlayingUi(false);
    } else {
      this.wantPlay = true;
      this._setPlayingUi(true);
      var at = this.wall, self = this;
      this.tiles.forEach(function (t) {
        if (t.source.mode !== "live" && at != null && self._nextFootage(t, at) != null) { t.held = true; return; }
        if (t.source.mode === "live" || (t.source.frags && t.source.state !== "nofootage")) t.source.play();
        else if (at != null && t.config.can_recorded !== false) t.source.playAt(at, { play: true });
      });
    }
  };

  SafeCamGrid.prototype.seek = function (ms, play) {
    if (!this.canRecorded()) return;
    if (ms > Date.now()) ms = Date.now() - 5 * SECOND;
    this.wantPlay = this._playAfterSeek(play != null ? play : this.wantPlay);
    if (this.live) { this._setLiveUi(false); this.wantPlay = true; }
    this.wall = ms;
    this._anchor = ms;
    this._anchorAt = Date.now();
    this._lastInput = 0;
    this._renderClock();
    var self = this;
    this._recordedTiles().forEach(function (t) {
      t.held = false;
      t.source.setRate(self.speed);
      t.source.playAt(ms, { play: self.wantPlay });
    });
  };

  SafeCamGrid.prototype.goLive = function () {
    if (!this.canLive()) return;
    this._setLiveUi(true);
    this.wantPlay = true;
    this._setPlayingUi(true);
    this.showDay(this.clock.dayStart(Date.now()));
    this.tiles.forEach(function (t) { t.held = false; if (t.config.can_live) t.source.goLive(); });
  };

  SafeCamGrid.prototype.toggleLive = function () {
    if (this.live) {
      var at = this.wall != null ? this.wall : Date.now() - MINUTE;
      this._setLiveUi(false);
      this.wantPlay = true;
      this.seek(at);
    } else {
      this.goLive();
    }
  };

  // --- start-up ---------------------------------------------------------------------------------

  function readConfig(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { console.error("SafeCam: bad " + id, e); return null; }
  }

  function init() {
    var instances = global.SafeCam.instances;
    var playerConfig = readConfig("sc-player-config");
    var playerRoot = document.querySelector("[data-sc-player]");
    if (playerConfig && playerRoot && !playerRoot.scPlayer) {
      playerRoot.scPlayer = new SafeCamPlayer(playerRoot, playerConfig);
      instances.player = playerRoot.scPlayer;
    }
    var gridConfig = readConfig("sc-grid-config");
    var gridRoot = document.querySelector("[data-sc-grid]");
    if (gridConfig && gridRoot && !gridRoot.scGrid) {
      gridRoot.scGrid = new SafeCamGrid(gridRoot, gridConfig);
      instances.grid = gridRoot.scGrid;
    }
  }

  global.SafeCam = { ZoneClock: ZoneClock, CameraSource: CameraSource, Timeline: Timeline, SafeCamPlayer: SafeCamPlayer,
                     SafeCamGrid: SafeCamGrid, instances: {} };
  global.SafeCamPlayer = SafeCamPlayer;
  global.SafeCamGrid = SafeCamGrid;

  // The include puts this script after the player's markup: start at once (the rest of the page
  // and its scripts need not load first). Elsewhere, when the document is ready.
  init();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
})(window);
