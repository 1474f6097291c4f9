// The case page: composer modes, WhatsApp window countdown, canned answers, drag and drop
// attachments, and the "r" / "n" shortcuts. No inline code (CSP); the page works without it.
"use strict";

(function () {
  const form = document.getElementById("composer-form");
  if (!form) return;
  const body = document.getElementById("composer-body");
  const channel = document.getElementById("composer-channel");
  const templates = document.getElementById("wa-templates");
  const submit = document.getElementById("composer-submit");
  const files = document.getElementById("composer-files");
  const drop = document.getElementById("composer-drop");
  const list = document.getElementById("composer-file-list");
  const fileError = document.getElementById("composer-file-error");
  const maxBytes = parseInt(form.dataset.maxBytes || "0", 10);
  // The server's clock decides the window: the browser's may be off.
  const skew = form.dataset.now ? Date.parse(form.dataset.now) - Date.now() : 0;

  function mode() {
    const checked = form.querySelector("input[name=mode]:checked");
    return checked ? checked.value : "reply";
  }

  function selectedWindow() {
    if (!channel) return null;
    const option = channel.options[channel.selectedIndex];
    if (!option || option.dataset.kind !== "whatsapp") return null;
    return form.querySelector('.wa-window[data-channel="' + option.value + '"]');
  }

  function refresh() {
    const isNote = mode() === "note";
    form.querySelectorAll(".reply-only").forEach((el) => {
      el.classList.toggle("hidden", isNote);
      // A note goes nowhere and changes no status: its hidden controls are not sent.
      el.querySelectorAll("select, input, textarea").forEach((c) => (c.disabled = isNote));
    });
    form.querySelectorAll(".wa-window").forEach((el) => el.classList.add("hidden"));
    const win = isNote ? null : selectedWindow();
    let closed = false;
    if (win) {
      win.classList.remove("hidden");
      closed = win.dataset.open !== "1";
    }
    if (templates) templates.classList.toggle("hidden", !closed);
    body.disabled = closed;
    submit.textContent = isNote ? submit.dataset.note : submit.dataset.reply;
    form.classList.toggle("composing-note", isNote);
  }

  form.querySelectorAll("input[name=mode]").forEach((el) => el.addEventListener("change", refresh));
  if (channel) channel.addEventListener("change", refresh);

  // The WhatsApp window: a countdown, the reminder in its last hour, free text off at zero.
  function words(seconds) {
    const minutes = Math.floor(seconds / 60);
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    if (minutes < 1) return "menos de 1 min";
    return h ? (m ? h + " h " + m + " min" : h + " h") : m + " min";
  }
  function tick() {
    form.querySelectorAll('.wa-window[data-open="1"][data-closes-at]').forEach((win) => {
      const left = (Date.parse(win.dataset.closesAt) - (Date.now() + skew)) / 1000;
      const out = win.querySelector(".wa-left");
      if (left <= 0) {
        win.dataset.open = "0";
        if (out) out.textContent = "0 min";
        const closedText = win.querySelector(".wa-open");
        if (closedText) closedText.classList.add("hidden");
      } else {
        if (out) out.textContent = words(left);
        const reminder = win.querySelector(".wa-reminder");
        if (reminder) reminder.classList.toggle("hidden", left > 3600);
      }
    });
    refresh();
  }
  setInterval(tick, 30000);

  // Canned answers: the text, placeholders already filled by the server, into the message.
  const canned = document.getElementById("composer-canned");
  const insert = document.getElementById("composer-canned-insert");
  if (canned && insert) {
    insert.addEventListener("click", () => {
      const option = canned.options[canned.selectedIndex];
      if (!option || !option.dataset.text || body.disabled) return;
      body.value = body.value ? body.value.replace(/\s*$/, "\n\n") + option.dataset.text : option.dataset.text;
      body.focus();
    });
  }

  // Attachments: several, by the file picker or dropped on the zone; the size limit checked here too.
  function showFiles() {
    list.textContent = "";
    let tooBig = [];
    Array.from(files.files).forEach((f) => {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + Math.ceil(f.size / 1024) + " KB)";
      list.appendChild(li);
      if (maxBytes && f.size > maxBytes) tooBig.push(f.name);
    });
    fileError.classList.toggle("hidden", tooBig.length === 0);
    fileError.textContent = tooBig.length ? "Supera el tamaño máximo: " + tooBig.join(", ") : "";
    submit.disabled = tooBig.length > 0;
  }
  files.addEventListener("change", showFiles);
  ["dragenter", "dragover"].forEach((type) =>
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add("dragging");
    })
  );
  ["dragleave", "drop"].forEach((type) =>
    drop.addEventListener(type, () => drop.classList.remove("dragging"))
  );
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const merged = new DataTransfer();
    Array.from(files.files).forEach((f) => merged.items.add(f));
    Array.from(e.dataTransfer.files).forEach((f) => merged.items.add(f));
    files.files = merged.files;
    showFiles();
  });

  // Keyboard: "r" answers the customer, "n" writes an internal note (not while typing).
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName))) return;
    if (e.key !== "r" && e.key !== "n") return;
    const radio = form.querySelector('input[name=mode][value="' + (e.key === "r" ? "reply" : "note") + '"]');
    if (!radio) return;
    e.preventDefault();
    radio.checked = true;
    refresh();
    form.scrollIntoView({ block: "start" });
    (body.disabled ? document.getElementById("composer-template") : body).focus();
  });

  refresh();
})();
