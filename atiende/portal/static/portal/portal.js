/* The portal's small behaviours (no inline scripts: the CSP allows only our files).
   - Attachments: drop files on the zone or pick them; the list shows names and sizes and
     warns about files over the limit before sending (the server checks again).
   - New case: the guidance for the kind chosen is shown first. */
(function () {
  "use strict";

  function formatSize(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " KB";
    return bytes + " B";
  }

  function setupDropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector(".file-list");
    var maxBytes = parseInt(zone.getAttribute("data-max-bytes"), 10) || 0;
    var maxFiles = parseInt(zone.getAttribute("data-max-files"), 10) || 0;
    var english = document.documentElement.lang === "en";

    function render() {
      list.textContent = "";
      var files = Array.prototype.slice.call(input.files || []);
      files.forEach(function (file) {
        var li = document.createElement("li");
        li.textContent = file.name + " (" + formatSize(file.size) + ")";
        if (maxBytes && file.size > maxBytes) {
          li.className = "too-big";
          li.textContent += english ? " — too large, it will be refused" : " — supera el límite, será rechazado";
        }
        list.appendChild(li);
      });
      if (maxFiles && files.length > maxFiles) {
        var warn = document.createElement("li");
        warn.className = "too-big";
        warn.textContent = english ? "Too many files: at most " + maxFiles + "." : "Demasiados archivos: máximo " + maxFiles + ".";
        list.appendChild(warn);
      }
    }

    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", function () {
      zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("dragging");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files || [], function (f) { all.items.add(f); });
      Array.prototype.forEach.call(event.dataTransfer.files, function (f) { all.items.add(f); });
      input.files = all.files;
      render();
    });
    input.addEventListener("change", render);
  }

  function setupGuidance() {
    var guidance = document.getElementById("guia");
    if (!guidance) return;
    var radios = document.querySelectorAll("input[name=kind]");
    function show() {
      var chosen = document.querySelector("input[name=kind]:checked");
      var kind = chosen ? chosen.value : "";
      var target = { critical: "critical", incident: "incident", request: "request", change: "request" }[kind];
      Array.prototype.forEach.call(guidance.querySelectorAll(".guide"), function (section) {
        section.hidden = Boolean(target) && !section.classList.contains(target);
      });
    }
    Array.prototype.forEach.call(radios, function (r) { r.addEventListener("change", show); });
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-dropzone]"), setupDropzone);
    setupGuidance();
  });
})();
