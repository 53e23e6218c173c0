// quire admin: optional enhancements. Every page works without this file.
// - a live Markdown preview beside the editor;
// - drag-and-drop image upload into the editor (inserts Markdown);
// - confirmation before destructive buttons.
(function () {
  "use strict";
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = tokenMeta ? tokenMeta.getAttribute("content") : "";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  var body = document.getElementById("body");
  if (!body || !body.hasAttribute("data-preview")) return;
  var pane = document.getElementById(body.getAttribute("data-preview"));
  var section = pane && pane.closest("section");
  if (section) {
    section.hidden = false;
    section.parentElement.classList.add("with-preview");
  }

  var timer = null;
  var pending = null;
  function renderPreview() {
    if (!pane) return;
    if (pending) pending.abort();
    pending = new AbortController();
    var form = new URLSearchParams();
    form.set("body", body.value);
    fetch("/admin/render", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
      credentials: "same-origin",
      signal: pending.signal
    }).then(function (response) {
      if (!response.ok) throw new Error("preview failed: " + response.status);
      return response.text();
    }).then(function (html) {
      // The server sanitises this HTML; the admin's CSP blocks scripts anyway.
      pane.innerHTML = html;
    }).catch(function (err) {
      if (err.name !== "AbortError") pane.textContent = "Preview unavailable (" + err.message + ").";
    });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(renderPreview, 250);
  });
  renderPreview();

  function insertAtCursor(text) {
    var start = body.selectionStart, end = body.selectionEnd;
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    body.selectionStart = body.selectionEnd = start + text.length;
    body.dispatchEvent(new Event("input"));
  }

  function upload(file) {
    var data = new FormData();
    data.append("file", file);
    var placeholder = "![Uploading " + file.name + "…]()";
    insertAtCursor(placeholder);
    return fetch("/api/v1/media", {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      body: data,
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (result) {
      var replacement = result.ok
        ? "![" + file.name.replace(/\.[^.]+$/, "").replace(/[\[\]]/g, "") + "](" + result.json.url + ")"
        : "<!-- upload failed: " + (result.json.error ? result.json.error.message : "error") + " -->";
      body.value = body.value.replace(placeholder, replacement);
      body.dispatchEvent(new Event("input"));
    });
  }

  body.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      body.classList.add("dropping");
    }
  });
  body.addEventListener("dragleave", function () { body.classList.remove("dropping"); });
  body.addEventListener("drop", function (event) {
    body.classList.remove("dropping");
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    Array.prototype.forEach.call(event.dataTransfer.files, upload);
  });
  body.addEventListener("paste", function (event) {
    var files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) {
      event.preventDefault();
      Array.prototype.forEach.call(files, upload);
    }
  });
})();
