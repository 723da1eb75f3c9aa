// The kitchen ticket page: a Print button, and printing at once when opened for auto-print
// (the queue loads it in a frame; Chrome started with --kiosk-printing prints without a dialog).
(function () {
  "use strict";
  var button = document.getElementById("print-ticket");
  if (button) button.addEventListener("click", function () { window.print(); });
  if (document.body.hasAttribute("data-autoprint")) {
    window.addEventListener("load", function () {
      window.print();
      if (window.parent !== window) window.parent.postMessage({ printed: document.title }, window.location.origin);
    });
  }
})();
