// The phone lines' live region: while a call rings for me or I am on one, the tab's title
// says so (an agent on another tab notices). No inline code: loaded from _calls_live.html.
"use strict";
(function () {
  var base = document.title;
  function mark() {
    var live = document.querySelector("#llamadas-en-vivo [data-calls]");
    document.title = live ? "☎ " + base : base;
  }
  document.addEventListener("htmx:afterSettle", mark);
  document.addEventListener("DOMContentLoaded", mark);
})();
