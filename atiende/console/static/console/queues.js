// Queues and search: keyboard moves through a queue's rows; "/" goes to the search box.
// Loaded by every console page (base.html); does nothing where there is no queue table.
"use strict";

(function () {
  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-table] tr[data-row]"));
  }

  function currentIndex(list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains("is-current")) return i;
    }
    return -1;
  }

  function move(step) {
    var list = rows();
    if (!list.length) return false;
    var i = currentIndex(list);
    var next = i < 0 ? 0 : Math.min(list.length - 1, Math.max(0, i + step));
    if (i >= 0) list[i].classList.remove("is-current");
    var row = list[next];
    row.classList.add("is-current");
    var link = row.querySelector("a.case-link");
    if (link) link.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "/" && !typing(event.target)) {
      var box = document.querySelector("[data-search-box]");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
      return;
    }
    if (typing(event.target)) return;
    if (event.key === "j" || event.key === "ArrowDown") {
      if (move(1)) event.preventDefault();
    } else if (event.key === "k" || event.key === "ArrowUp") {
      if (move(-1)) event.preventDefault();
    } else if (event.key === "x") {
      var list = rows();
      var i = currentIndex(list);
      if (i >= 0) {
        var box2 = list[i].querySelector("input[type=checkbox]");
        if (box2) box2.checked = !box2.checked;
      }
    }
  });

  // A row's link receiving focus (Tab, a click) makes that row the current one.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest("[data-queue-table] tr[data-row]");
    if (!row) return;
    rows().forEach(function (r) { r.classList.toggle("is-current", r === row); });
  });
})();
