// The dashboard's behaviour: the live stream, moving tickets between columns, ages, the chime.
// No framework and no build step; htmx (vendored) does the requests and swaps.
(function () {
  "use strict";

  var body = document.body;
  var eventsUrl = body.dataset.events;
  var lastEventId = body.dataset.lastEventId || "";
  var source = null;
  var retryMs = 1000;

  // -- notices (a polite live region, so screen readers hear them too) --------------------
  function notice(text, kind) {
    var box = document.getElementById("notices");
    if (!box) return;
    var item = document.createElement("p");
    item.className = "notice " + (kind || "");
    item.textContent = text;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, kind === "error" ? 8000 : 4000);
  }

  // -- chime: an oscillator, off until staff switch it on (browsers need a tap first) -------
  var audio = null;
  var soundOn = false;
  var toggle = document.getElementById("sound-toggle");

  function setSound(on) {
    soundOn = on;
    if (toggle) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Sound on" : "Sound off";
    }
    try { localStorage.setItem("dashboard-sound", on ? "on" : "off"); } catch (e) { /* private mode */ }
  }

  function chime() {
    if (!soundOn || !audio) return;
    var start = audio.currentTime;
    [880, 1320].forEach(function (freq, i) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.3, start + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(start + i * 0.18);
      osc.stop(start + i * 0.18 + 0.4);
    });
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      if (!audio) {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx) audio = new Ctx();
      }
      if (audio && audio.state === "suspended") audio.resume();
      setSound(!soundOn);
      if (soundOn) chime();
    });
    // The preference is remembered, but sound stays off until a tap (autoplay rules).
    var remembered = null;
    try { remembered = localStorage.getItem("dashboard-sound"); } catch (e) { remembered = null; }
    if (remembered === "on") toggle.title = "Tap to switch the chime back on";
  }

  // -- ages: minutes since placed, coloured against the store's preparation time ------------
  function refreshAges() {
    var now = Date.now();
    document.querySelectorAll(".ticket[data-placed]").forEach(function (t) {
      var minutes = Math.max(0, Math.floor((now - Number(t.dataset.placed)) / 60000));
      var prep = Number(t.dataset.prep) || 20;
      var age = t.querySelector(".age");
      if (age) age.textContent = minutes + " min";
      var finished = !t.querySelector(".actions");
      t.classList.toggle("age-warn", !finished && minutes >= prep && minutes < prep * 1.5);
      t.classList.toggle("age-late", !finished && minutes >= prep * 1.5);
    });
  }
  setInterval(refreshAges, 15000);

  // -- the board ----------------------------------------------------------------------------
  var ACTIVE = ["placed", "confirmed", "preparing", "ready", "out_for_delivery"];
  var DONE_SHOWN = 20;

  function columnOf(status) { return ACTIVE.indexOf(status) >= 0 ? status : "done"; }

  function recount() {
    document.querySelectorAll(".column").forEach(function (col) {
      var n = col.querySelectorAll(".ticket").length;
      var count = col.querySelector(".count");
      if (count) { count.textContent = n; count.setAttribute("aria-label", n + " orders"); }
    });
  }

  // Put a ticket (HTML from the server) in its column, newest first; true if it was new.
  function placeTicket(html) {
    var board = document.getElementById("board");
    if (!board) return false;
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var ticket = holder.content.firstElementChild;
    if (!ticket) return false;
    var existing = document.getElementById(ticket.id);
    var column = board.querySelector('[data-column="' + columnOf(ticket.dataset.status) + '"] .tickets');
    if (!column) return false;
    var hadFocus = existing && existing.contains(document.activeElement);
    if (existing) existing.remove();
    var placed = Number(ticket.dataset.placed);
    var before = null;
    column.querySelectorAll(".ticket").forEach(function (other) {
      if (!before && Number(other.dataset.placed) < placed) before = other;
    });
    column.insertBefore(ticket, before);
    if (column.closest('[data-column="done"]')) {
      var all = column.querySelectorAll(".ticket");
      for (var i = DONE_SHOWN; i < all.length; i++) all[i].remove();
    }
    if (window.htmx) window.htmx.process(ticket);
    if (hadFocus) {
      var next = ticket.querySelector("button.next") || ticket.querySelector("a");
      if (next) next.focus();
    }
    recount();
    refreshAges();
    if (!existing) {
      ticket.classList.add("fresh");
      setTimeout(function () { ticket.classList.remove("fresh"); }, 4000);
    }
    return !existing;
  }

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail || {} }));
  }

  function onOrder(data) {
    if (data.html) {
      var isNew = placeTicket(data.html);
      if (isNew && data.status === "placed") {
        chime();
        notice("New order #" + data.number);
      }
    } else if (data.number && document.getElementById("board") && window.htmx) {
      // The server could not render it: fetch the ticket ourselves.
      window.htmx.ajax("GET", "/dashboard/orders/" + data.number + "/ticket", { swap: "none" })
        .then(function () {});
    }
    fire("dash-order", data);
    if (data.number) fire("dash-order-" + data.number, data);
  }

  function reloadBoard() {
    if (document.getElementById("board") && window.htmx) {
      window.htmx.ajax("GET", "/dashboard/board", { target: "#board", swap: "outerHTML" });
    }
  }

  // -- the live stream ----------------------------------------------------------------------
  function setLive(state, text) {
    var el = document.getElementById("live-state");
    if (!el) return;
    el.dataset.state = state;
    el.textContent = text;
  }

  function track(e) { if (e.lastEventId) lastEventId = e.lastEventId; }

  function connect() {
    if (!eventsUrl || !window.EventSource) return;
    var url = eventsUrl + (lastEventId ? "?last_event_id=" + encodeURIComponent(lastEventId) : "");
    source = new EventSource(url);
    source.addEventListener("open", function () { retryMs = 1000; setLive("live", "Live"); });
    source.addEventListener("order", function (e) { track(e); onOrder(JSON.parse(e.data)); });
    source.addEventListener("message", function (e) {
      track(e);
      var data = JSON.parse(e.data);
      fire("dash-message", data);
      // Not dash-order-N: a delivery update must not redraw an order's status panel.
      if (data.number) fire("dash-message-order-" + data.number, data);
      if (data.customer) fire("dash-conversation-" + data.customer, data);
    });
    source.addEventListener("conversation", function (e) {
      track(e);
      var data = JSON.parse(e.data);
      fire("dash-conversation", data);
      if (data.customer) fire("dash-conversation-" + data.customer, data);
      if (!document.getElementById("handoff-list")) {
        var nav = document.getElementById("nav-handoff");
        if (nav) nav.classList.add("attention");
      }
    });
    source.addEventListener("menu", function (e) { track(e); fire("dash-menu", {}); });
    source.addEventListener("skip", track);
    source.addEventListener("reset", function (e) { track(e); reloadBoard(); });
    source.addEventListener("error", function () {
      // The browser retries by itself (sending Last-Event-ID) unless the stream was refused;
      // then we open a new one from the last id we saw.
      if (source.readyState === EventSource.CLOSED) {
        setLive("down", "Reconnecting…");
        source = null;
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 15000);
        fetch("/dashboard/board", { credentials: "same-origin", method: "HEAD" }).then(function (r) {
          if (r.status === 401 || r.redirected) window.location.href = "/login";
        }).catch(function () {});
      } else {
        setLive("down", "Reconnecting…");
      }
    });
  }

  // -- htmx glue ----------------------------------------------------------------------------
  body.addEventListener("htmx:afterRequest", function (e) {
    var elt = e.detail.elt;
    var xhr = e.detail.xhr;
    if (!elt || !xhr) return;
    if (elt.hasAttribute("data-ticket-action") && e.detail.successful) {
      // Show the move at once; the live stream brings the same ticket to every other browser.
      placeTicket(xhr.responseText);
      if (elt.dataset.number) fire("dash-order-" + elt.dataset.number, {});
    }
    if (elt.hasAttribute("data-reset-on-success") && e.detail.successful) elt.reset();
  });
  body.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) { window.location.href = "/login"; return; }
    notice(xhr.responseText || ("Request failed (" + xhr.status + ")"), "error");
  });
  body.addEventListener("htmx:sendError", function () {
    notice("Cannot reach the server; check the connection.", "error");
  });

  refreshAges();
  setSound(false);
  connect();
})();
