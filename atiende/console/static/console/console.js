// atiende console: small behaviours on top of htmx. No inline scripts (CSP), no build step.
"use strict";

// Presence: the case page's heartbeat (console/case/_presence.html, [data-presence]) says
// "writing" while the agent typed in a form of the page during the last 10 seconds.
(function () {
  var lastTyped = 0;
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el && el.closest && el.closest("form") && !el.closest("[role=search]") &&
        (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type === "text"))) {
      lastTyped = Date.now();
    }
  });
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.hasAttribute("data-presence")) {
      event.detail.parameters.state = Date.now() - lastTyped < 10000 ? "writing" : "viewing";
    }
  });
})();
