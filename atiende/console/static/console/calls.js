// The phone lines' live region (console/_calls_live.html), redrawn by htmx polling.
// - Screen readers: the status line (#llamadas-aviso) changes only when the calls do, so a
//   redraw of the same pop is not read out again.
// - While a call rings for me or I am on one, the tab's title starts with a phone sign.
// No inline code (CSP): this file is loaded by the include.
"use strict";
(function () {
  var base = document.title;
  var said = null;
  function update() {
    var inner = document.querySelector("#llamadas-en-vivo [data-announce]");
    var status = document.getElementById("llamadas-aviso");
    var text = inner ? inner.getAttribute("data-announce").trim() : "";
    if (status && said !== null && text !== said) {
      status.textContent = text;
    }
    said = text;
    var busy = document.querySelector("#llamadas-en-vivo [data-calls]");
    document.title = busy ? "☎ " + base : base;
  }
  document.addEventListener("htmx:afterSettle", update);
  document.addEventListener("DOMContentLoaded", update);
})();
