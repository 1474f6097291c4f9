// atiende console: small behaviours on top of htmx. No inline scripts (CSP), no build step.
"use strict";
