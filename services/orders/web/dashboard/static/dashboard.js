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

  function remember(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function recall(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }

  // A switch button (aria-pressed) whose label says its state; the choice is remembered.
  function showSwitch(button, on, label, key) {
    if (button) {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = label + (on ? " on" : " off");
    }
    remember(key, on ? "on" : "off");
  }

  // -- chime: an oscillator, off until staff switch it on (browsers need a tap first) -------
  var audio = null;
  var soundOn = false;
  var toggle = document.getElementById("sound-toggle");

  function setSound(on) {
    soundOn = on;
    showSwitch(toggle, on, "Sound", "dashboard-sound");
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
    if (recall("dashboard-sound") === "on") toggle.title = "Tap to switch the chime back on";
  }

  // -- ages: minutes since placed, against the store's preparation time ---------------------
  // Orders the kitchen still owes (New, Confirmed, Preparing) turn amber from three quarters
  // of the preparation time and red past it (the customer was told "about N min"); a late one
  // also says "late", so the colour is never the only signal.
  var WARN_SHARE = 0.75;

  function minutesSince(ms, now) { return Math.max(0, Math.floor((now - ms) / 60000)); }

  function refreshAges() {
    var now = Date.now();
    var oldest = null;
    document.querySelectorAll(".ticket[data-placed]").forEach(function (t) {
      var minutes = minutesSince(Number(t.dataset.placed), now);
      var prep = Number(t.dataset.prep) || 20;
      var timed = t.hasAttribute("data-timed");
      var late = timed && minutes >= prep;
      var warn = timed && !late && minutes >= prep * WARN_SHARE;
      var age = t.querySelector(".age");
      if (age) {
        age.textContent = minutes + " min";
        if (late) {
          var word = document.createElement("span");
          word.className = "late-word";
          word.textContent = " late";
          age.appendChild(word);
        }
      }
      t.classList.toggle("age-warn", warn);
      t.classList.toggle("age-late", late);
      if (timed && (oldest === null || minutes > oldest)) oldest = minutes;
    });
    var oldestEl = document.getElementById("oldest-age");
    if (oldestEl && oldest !== null) oldestEl.textContent = oldest;
    var oldestBox = document.getElementById("oldest");
    if (oldestBox) oldestBox.hidden = oldest === null;
  }
  setInterval(refreshAges, 15000);

  // -- the board ----------------------------------------------------------------------------
  var ACTIVE = ["placed", "confirmed", "preparing", "ready", "out_for_delivery"];
  var DONE_SHOWN = 20;

  function columnOf(status) { return ACTIVE.indexOf(status) >= 0 ? status : "done"; }

  function recount() {
    var open = 0;
    document.querySelectorAll("#board .column[data-column]").forEach(function (col) {
      var key = col.dataset.column;
      var n = col.querySelectorAll(".ticket").length;
      if (key !== "done") open += n;
      document.querySelectorAll('[data-count-for="' + key + '"]').forEach(function (count) {
        count.textContent = n;
        if (count.hasAttribute("aria-label")) count.setAttribute("aria-label", n + (n === 1 ? " order" : " orders"));
      });
    });
    var openEl = document.getElementById("open-count");
    if (openEl) openEl.textContent = open;
  }

  // Put a ticket (HTML from the server) in its column; true if it was new. Columns are oldest
  // first (the longest wait on top); Done is the most recently finished first.
  function placeTicket(html) {
    var board = document.getElementById("board");
    if (!board) return false;
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    var ticket = holder.content.firstElementChild;
    if (!ticket || !ticket.classList.contains("ticket")) return false;
    var existing = document.getElementById(ticket.id);
    var key = columnOf(ticket.dataset.status);
    var column = board.querySelector('[data-column="' + key + '"] .tickets');
    if (!column) return false;
    var hadFocus = existing && existing.contains(document.activeElement);
    if (existing) existing.remove();
    var before = null;
    if (key === "done") {
      before = column.querySelector(".ticket");
    } else {
      var placed = Number(ticket.dataset.placed);
      column.querySelectorAll(".ticket").forEach(function (other) {
        if (!before && Number(other.dataset.placed) > placed) before = other;
      });
    }
    column.insertBefore(ticket, before);
    if (key === "done") {
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

  // -- later stages: the count in the bar opens the list --------------------------------------
  document.addEventListener("click", function (e) {
    var opener = e.target.closest && e.target.closest("[data-later]");
    if (opener) {
      var dialog = document.getElementById("later-" + opener.dataset.later);
      if (dialog && dialog.showModal && !dialog.open) dialog.showModal();
      return;
    }
    var closer = e.target.closest && e.target.closest("[data-close]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) open.close();
      return;
    }
    // A tap on the backdrop (outside the dialog's box) closes it.
    if (e.target.tagName === "DIALOG" && e.target.open) {
      var box = e.target.getBoundingClientRect();
      var inside = e.clientX >= box.left && e.clientX <= box.right && e.clientY >= box.top && e.clientY <= box.bottom;
      if (!inside) e.target.close();
    }
  });

  // -- auto-print: a kitchen ticket for each new order, on this device only ------------------
  // The ticket page is loaded in an invisible frame and prints itself; printed numbers are
  // remembered so a reconnect that replays events does not print twice.
  var printToggle = document.getElementById("autoprint-toggle");
  var autoPrint = false;
  var PRINTED_KEY = "dashboard-printed";

  function setAutoPrint(on) {
    autoPrint = on;
    showSwitch(printToggle, on, "Auto-print", "dashboard-autoprint");
  }

  function printTicket(number) {
    var printed = (recall(PRINTED_KEY) || "").split(",").filter(Boolean);
    if (printed.indexOf(String(number)) >= 0) return;
    printed.push(String(number));
    remember(PRINTED_KEY, printed.slice(-200).join(","));
    var frame = document.createElement("iframe");
    frame.className = "print-frame";
    frame.title = "Ticket " + number;
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    frame.src = "/dashboard/orders/" + encodeURIComponent(number) + "/ticket?print=1";
    document.body.appendChild(frame);
    setTimeout(function () { frame.remove(); }, 60000);
  }

  if (printToggle) {
    printToggle.addEventListener("click", function () { setAutoPrint(!autoPrint); });
    setAutoPrint(recall("dashboard-autoprint") === "on");
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
        if (autoPrint) printTicket(data.number);
      }
    } else if (data.number && document.getElementById("board")) {
      // The server could not render it: fetch the card ourselves.
      fetch("/dashboard/orders/" + encodeURIComponent(data.number) + "/card", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (html) placeTicket(html); })
        .catch(function () {});
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
  // A live refresh of the status panel must not close a cancellation someone is writing (the
  // move they just made and the live stream each refresh it, a moment apart).
  var keptCancel = null;
  body.addEventListener("htmx:beforeSwap", function (e) {
    var open = e.detail.target && e.detail.target.querySelector && e.detail.target.querySelector("details.cancel[open]");
    keptCancel = open ? { reason: (open.querySelector("input[name=reason]") || {}).value || "",
                          focused: open.contains(document.activeElement) } : null;
  });
  body.addEventListener("htmx:afterSwap", function () {
    if (!keptCancel) return;
    var again = document.querySelector("#order-status-panel details.cancel");
    if (again) {
      again.open = true;
      var input = again.querySelector("input[name=reason]");
      if (input) {
        input.value = keptCancel.reason;
        if (keptCancel.focused) input.focus();
      }
    }
    keptCancel = null;
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
