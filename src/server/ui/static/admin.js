// quire admin: optional enhancements. Every page works without this file.
// - a live Markdown preview beside the editor, highlighted as the build does;
// - a formatting toolbar with keyboard shortcuts, and an image picker over
//   the media library (asks for alt text);
// - drag-and-drop and paste uploads with progress and clear errors;
// - tag suggestions from the site's tags;
// - a copy of unsaved text in this browser, restored after a crash;
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

  function changed() {
    body.dispatchEvent(new Event("input"));
  }

  // Replaces the selection with `text` (keeping the browser's undo stack
  // where it can), then selects text[selectFrom..selectTo] if given.
  function replaceSelection(text, selectFrom, selectTo) {
    var start = body.selectionStart;
    body.focus();
    var done = false;
    try { done = document.execCommand("insertText", false, text); } catch (e) { done = false; }
    if (!done) {
      body.setRangeText(text, body.selectionStart, body.selectionEnd, "end");
      changed();
    }
    if (selectFrom !== undefined) {
      body.selectionStart = start + selectFrom;
      body.selectionEnd = start + (selectTo === undefined ? selectFrom : selectTo);
    }
  }

  function selected() {
    return body.value.slice(body.selectionStart, body.selectionEnd);
  }

  // Wraps the selection in `before`/`after`, or inserts `placeholder` so
  // wrapped and selected, ready to type over.
  function wrap(before, after, placeholder) {
    var text = selected() || placeholder;
    replaceSelection(before + text + after, before.length, before.length + text.length);
  }

  // Starts every selected line with `prefix` (or the line the cursor is on).
  function prefixLines(prefix) {
    var value = body.value;
    var start = value.lastIndexOf("\n", body.selectionStart - 1) + 1;
    var end = value.indexOf("\n", body.selectionEnd);
    if (end < 0) end = value.length;
    body.selectionStart = start;
    body.selectionEnd = end;
    var lines = value.slice(start, end).split("\n").map(function (line, i) {
      return (typeof prefix === "function" ? prefix(i) : prefix) + line;
    });
    var text = lines.join("\n");
    replaceSelection(text, text.length);
  }

  var actions = {
    bold: function () { wrap("**", "**", "bold text"); },
    italic: function () { wrap("_", "_", "italic text"); },
    heading: function () { prefixLines("## "); },
    link: function () {
      var text = selected() || "link text";
      var markdown = "[" + text + "](https://)";
      // Select the address, ready to paste.
      replaceSelection(markdown, text.length + 3, markdown.length - 1);
    },
    list: function () { prefixLines("- "); },
    numbered: function () { prefixLines(function (i) { return (i + 1) + ". "; }); },
    quote: function () { prefixLines("> "); },
    code: function () {
      var text = selected();
      if (text.indexOf("\n") >= 0 || !text) {
        var block = "```\n" + (text || "code") + "\n```\n";
        replaceSelection(block, 4, 4 + (text || "code").length);
      } else {
        wrap("`", "`", "code");
      }
    },
    image: function () { openPicker(); }
  };
  // Shortcuts as in GitHub's editor: Ctrl (⌘ on a Mac) with B, I, K, E;
  // with Shift: 8 list, 7 numbered list, . quote, H heading; Alt+I image.
  var buttons = [
    ["bold", "Bold", "B", "Ctrl+B", { key: "b" }],
    ["italic", "Italic", "I", "Ctrl+I", { key: "i" }],
    ["heading", "Heading", "H", "Ctrl+Shift+H", { key: "h", shift: true }],
    ["link", "Link", "🔗", "Ctrl+K", { key: "k" }],
    ["list", "Bulleted list", "•", "Ctrl+Shift+8", { code: "Digit8", shift: true }],
    ["numbered", "Numbered list", "1.", "Ctrl+Shift+7", { code: "Digit7", shift: true }],
    ["quote", "Quote", "❝", "Ctrl+Shift+.", { code: "Period", shift: true }],
    ["code", "Code", "</>", "Ctrl+E", { key: "e" }],
    ["image", "Image from the media library", "🖼", "Ctrl+Alt+I", { key: "i", alt: true }]
  ];
  var toolbar = document.createElement("div");
  toolbar.className = "toolbar";
  toolbar.setAttribute("role", "toolbar");
  toolbar.setAttribute("aria-label", "Formatting");
  toolbar.setAttribute("aria-controls", "body");
  buttons.forEach(function (b) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "tool";
    button.setAttribute("data-action", b[0]);
    button.setAttribute("aria-label", b[1]);
    button.title = b[1] + " (" + b[3] + ")";
    button.setAttribute("aria-keyshortcuts", b[3].replace("Ctrl", "Control"));
    button.textContent = b[2];
    button.addEventListener("click", function () { actions[b[0]](); });
    toolbar.appendChild(button);
  });
  body.parentElement.insertBefore(toolbar, body);
  body.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey)) return;
    for (var i = 0; i < buttons.length; i++) {
      var want = buttons[i][4];
      var hit = want.code ? event.code === want.code : event.key.toLowerCase() === want.key;
      if (hit && !!want.shift === event.shiftKey && !!want.alt === event.altKey) {
        event.preventDefault();
        actions[buttons[i][0]]();
        return;
      }
    }
  });

  // ---- the media picker -------------------------------------------------
  var picker = null;
  // `mode.alt`: ask for alt text; `mode.done(item, alt)`: use the choice.
  var pickerMode = null;
  function openPicker(mode) {
    if (!picker) picker = buildPicker();
    pickerMode = mode || {
      alt: true,
      title: "Insert an image",
      done: function (item, alt) {
        body.focus();
        replaceSelection("![" + alt + "](" + item.url + ")");
      }
    };
    picker.dialog.querySelector("#picker-title").textContent = pickerMode.title;
    picker.load(1);
    picker.dialog.showModal();
    picker.search.focus();
  }

  function buildPicker() {
    var dialog = document.createElement("dialog");
    dialog.className = "picker";
    dialog.setAttribute("aria-labelledby", "picker-title");
    dialog.innerHTML =
      '<form method="dialog" class="picker-head"><h2 id="picker-title">Insert an image</h2>' +
      '<button type="submit" class="small" aria-label="Close">✕</button></form>' +
      '<p class="field"><label for="picker-q">Search the media library</label>' +
      '<input type="search" id="picker-q" placeholder="Words in the file name"></p>' +
      '<p class="picker-status" role="status" aria-live="polite"></p>' +
      '<ul class="picker-grid"></ul>' +
      '<nav class="pager" aria-label="Pages of images"><button type="button" class="small" data-page="prev">Previous</button>' +
      '<span class="picker-page"></span><button type="button" class="small" data-page="next">Next</button></nav>' +
      '<form class="picker-alt" hidden><p class="field"><label for="picker-alt">Describe the image for people who cannot see it</label>' +
      '<input id="picker-alt" required placeholder="What the picture shows"></p>' +
      '<p class="buttons"><button type="submit" class="primary">Insert</button> <button type="button" data-back>Back</button></p></form>';
    document.body.appendChild(dialog);
    var search = dialog.querySelector("#picker-q");
    var grid = dialog.querySelector(".picker-grid");
    var status = dialog.querySelector(".picker-status");
    var pageLabel = dialog.querySelector(".picker-page");
    var altForm = dialog.querySelector(".picker-alt");
    var altInput = dialog.querySelector("#picker-alt");
    var state = { page: 1, pages: 1, chosen: null };
    var searchTimer = null;

    function load(page) {
      state.page = page;
      altForm.hidden = true;
      var query = "/api/v1/media?limit=24&page=" + page + "&q=" + encodeURIComponent(search.value);
      status.textContent = "Loading…";
      grid.textContent = "";
      fetch(query, { credentials: "same-origin" }).then(function (response) {
        return response.json().then(function (json) { return { ok: response.ok, json: json }; });
      }).then(function (result) {
        if (!result.ok) throw new Error(result.json.error ? result.json.error.message : "error");
        state.pages = result.json.pages;
        grid.textContent = "";
        result.json.media.filter(function (m) { return m.width; }).forEach(function (m) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "pick";
          button.setAttribute("data-path", m.path);
          var img = document.createElement("img");
          img.src = m.thumbnail || m.url.replace("/media/", "/admin/originals/");
          img.alt = "";
          img.loading = "lazy";
          var name = document.createElement("span");
          name.textContent = m.path;
          button.appendChild(img);
          button.appendChild(name);
          button.addEventListener("click", function () { choose(m); });
          item.appendChild(button);
          grid.appendChild(item);
        });
        status.textContent = result.json.total + " file" + (result.json.total === 1 ? "" : "s") +
          (search.value ? " found" : "") + (result.json.total ? "; choose one." : ".");
        pageLabel.textContent = "Page " + result.json.page + " of " + result.json.pages;
        dialog.querySelector('[data-page="prev"]').disabled = state.page <= 1;
        dialog.querySelector('[data-page="next"]').disabled = state.page >= state.pages;
      }).catch(function (err) {
        status.textContent = "The media library cannot be shown: " + err.message;
      });
    }
    function choose(item) {
      state.chosen = item;
      if (!pickerMode.alt) {
        dialog.close();
        pickerMode.done(item, "");
        return;
      }
      altForm.hidden = false;
      altInput.value = "";
      altInput.focus();
    }
    search.addEventListener("input", function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () { load(1); }, 200);
    });
    dialog.querySelector('[data-page="prev"]').addEventListener("click", function () { load(state.page - 1); });
    dialog.querySelector('[data-page="next"]').addEventListener("click", function () { load(state.page + 1); });
    dialog.querySelector("[data-back]").addEventListener("click", function () { altForm.hidden = true; });
    altForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var alt = altInput.value.replace(/[\[\]\n]/g, " ").trim();
      if (!alt || !state.chosen) return;
      dialog.close();
      pickerMode.done(state.chosen, alt);
    });
    return { dialog: dialog, search: search, load: load };
  }

  // ---- uploads by drag and drop or paste, with progress ----------------
  var uploads = document.createElement("ul");
  uploads.className = "uploads";
  uploads.setAttribute("aria-live", "polite");
  body.parentElement.appendChild(uploads);

  function upload(file) {
    var row = document.createElement("li");
    var label = document.createElement("span");
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    label.textContent = "Uploading " + file.name + "…";
    row.appendChild(label);
    row.appendChild(bar);
    uploads.appendChild(row);
    var placeholder = "![Uploading " + file.name + "…]()";
    replaceSelection(placeholder);
    var data = new FormData();
    data.append("file", file);
    var request = new XMLHttpRequest();
    request.open("POST", "/api/v1/media");
    request.setRequestHeader("X-CSRF-Token", csrf);
    request.responseType = "json";
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        bar.value = Math.round(100 * event.loaded / event.total);
        label.textContent = "Uploading " + file.name + "… " + bar.value + "%";
      }
    });
    function finish(ok, message) {
      var at = body.value.indexOf(placeholder);
      if (ok) {
        var alt = file.name.replace(/\.[^.]+$/, "").replace(/[\[\]]/g, "");
        if (at >= 0) body.value = body.value.replace(placeholder, "![" + alt + "](" + message + ")");
        label.textContent = "Uploaded " + file.name + ". Describe it in the [brackets] for people who cannot see it.";
        row.className = "done";
        bar.value = 100;
      } else {
        if (at >= 0) body.value = body.value.replace(placeholder, "");
        label.textContent = file.name + " was not uploaded: " + message;
        row.className = "failed";
        row.setAttribute("role", "alert");
        bar.remove();
      }
      changed();
    }
    request.addEventListener("load", function () {
      var json = request.response || {};
      if (request.status === 201) finish(true, json.url);
      else finish(false, json.error ? json.error.message : "the server answered " + request.status);
    });
    request.addEventListener("error", function () {
      finish(false, "the connection failed; check that the server is running and try again");
    });
    request.send(data);
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
  // ---- tag suggestions ---------------------------------------------------
  var tags = document.getElementById("tags");
  if (tags) {
    var list = document.createElement("datalist");
    list.id = "tag-suggestions";
    document.body.appendChild(list);
    tags.setAttribute("list", list.id);
    tags.setAttribute("autocomplete", "off");
    var known = null;
    function suggest() {
      if (!known) return;
      var parts = tags.value.split(",");
      var typed = parts.pop().trim().toLowerCase();
      var have = parts.map(function (t) { return t.trim().toLowerCase(); });
      var before = parts.length ? parts.map(function (t) { return t.trim(); }).join(", ") + ", " : "";
      list.textContent = "";
      known.filter(function (t) {
        var name = t.name.toLowerCase();
        return have.indexOf(name) < 0 && (!typed || name.indexOf(typed) >= 0);
      }).slice(0, 20).forEach(function (t) {
        var option = document.createElement("option");
        option.value = before + t.name;
        option.label = t.name + " (" + t.count + ")";
        list.appendChild(option);
      });
    }
    tags.addEventListener("focus", function () {
      if (known) return;
      fetch("/api/v1/tags", { credentials: "same-origin" }).then(function (r) { return r.json(); })
        .then(function (json) { known = json.tags || []; suggest(); })
        .catch(function () { known = []; });
    });
    tags.addEventListener("input", suggest);
  }

  // ---- a local copy of unsaved text ---------------------------------------
  // Kept in this browser until the server confirms a save, so closing the
  // tab or a crash never loses what was typed.
  var form = body.form;
  var key = "quire-unsaved:" + (form.getAttribute("data-post") || "new");
  var fields = ["title", "body", "tags", "summary", "date"];
  var storage = null;
  try { storage = window.localStorage; } catch (e) { storage = null; }
  function snapshot() {
    var values = {};
    fields.forEach(function (name) {
      var field = form.elements[name];
      if (field) values[name] = field.value;
    });
    return values;
  }
  if (storage) {
    if (/[?&]saved=1\b/.test(location.search)) {
      storage.removeItem(key);
      storage.removeItem("quire-unsaved:new");
    }
    var server = snapshot();
    var kept = null;
    try { kept = JSON.parse(storage.getItem(key) || "null"); } catch (e) { kept = null; }
    var differs = kept && fields.some(function (name) {
      return kept.values[name] !== undefined && kept.values[name] !== server[name];
    });
    if (differs) {
      fields.forEach(function (name) {
        if (form.elements[name] && kept.values[name] !== undefined) form.elements[name].value = kept.values[name];
      });
      var note = document.createElement("div");
      note.className = "notice restored";
      note.setAttribute("role", "status");
      var when = new Date(kept.at);
      note.innerHTML = "<p>Your unsaved text from <time></time> is restored from this browser. " +
        "It is not saved yet: check it and save.</p>" +
        '<p><button type="button" class="small" data-discard>Discard it and show the saved version</button></p>';
      note.querySelector("time").textContent = when.toLocaleString();
      note.querySelector("time").setAttribute("datetime", kept.at);
      if (kept.revision && kept.revision !== form.getAttribute("data-revision")) {
        var warn = document.createElement("p");
        warn.textContent = "The post was saved elsewhere since then; saving will show you both versions.";
        note.insertBefore(warn, note.lastChild);
      }
      note.querySelector("[data-discard]").addEventListener("click", function () {
        fields.forEach(function (name) {
          if (form.elements[name]) form.elements[name].value = server[name];
        });
        storage.removeItem(key);
        note.remove();
        changed();
      });
      form.parentElement.insertBefore(note, form);
      changed();
    } else if (kept) {
      storage.removeItem(key);
    }
    var keepTimer = null;
    form.addEventListener("input", function () {
      clearTimeout(keepTimer);
      keepTimer = setTimeout(function () {
        try {
          storage.setItem(key, JSON.stringify({
            values: snapshot(),
            revision: form.getAttribute("data-revision"),
            at: new Date().toISOString()
          }));
        } catch (e) { /* storage full or refused: the server copy still stands */ }
      }, 300);
    });
  }
  // ---- a date and time picker for scheduling -----------------------------
  // Fills the text field with the chosen local time and its UTC offset, so
  // the saved date means the same instant wherever the site is built.
  var date = document.getElementById("date");
  if (date && date.form === form) {
    var pick = document.createElement("input");
    pick.type = "datetime-local";
    pick.id = "date-picker";
    pick.setAttribute("aria-label", "Pick the date and time");
    var zone = document.createElement("small");
    zone.id = "date-zone";
    var offsetOf = function (when) {
      var minutes = -when.getTimezoneOffset();
      var sign = minutes < 0 ? "-" : "+";
      minutes = Math.abs(minutes);
      return sign + String(Math.floor(minutes / 60)).padStart(2, "0") + ":" + String(minutes % 60).padStart(2, "0");
    };
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var localValue = function (when) {
      return when.getFullYear() + "-" + pad(when.getMonth() + 1) + "-" + pad(when.getDate()) +
        "T" + pad(when.getHours()) + ":" + pad(when.getMinutes());
    };
    var zoneName = "";
    try { zoneName = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zoneName = ""; }
    var describe = function () {
      var now = new Date();
      zone.textContent = "Picked times are in your time zone, " + (zoneName ? zoneName + ", " : "") +
        "UTC" + offsetOf(now) + "; the date is saved with that offset.";
      var shown = date.value.trim();
      var parsed = shown ? new Date(/^\d{4}-\d{2}-\d{2}$/.test(shown) ? shown + "T00:00:00Z" : shown) : null;
      if (parsed && !isNaN(parsed.getTime())) {
        pick.value = localValue(parsed);
        var when = parsed > now ? " Scheduled: appears " : " Dated ";
        zone.textContent += when + parsed.toLocaleString() + " your time.";
      }
    };
    pick.addEventListener("change", function () {
      if (!pick.value) return;
      var chosen = new Date(pick.value);
      date.value = pick.value + ":00" + offsetOf(chosen);
      date.dispatchEvent(new Event("input", { bubbles: true }));
      describe();
    });
    date.addEventListener("input", describe);
    date.parentElement.insertBefore(pick, date.nextSibling);
    date.parentElement.appendChild(zone);
    describe();
  }
  // ---- the cover from the whole media library ------------------------------
  var cover = document.getElementById("cover");
  if (cover && cover.form === form) {
    var chooseCover = document.createElement("button");
    chooseCover.type = "button";
    chooseCover.className = "small";
    chooseCover.id = "cover-pick";
    chooseCover.textContent = "Choose from the media library…";
    chooseCover.addEventListener("click", function () {
      openPicker({
        alt: false,
        title: "Choose the cover image",
        done: function (item) {
          var option = Array.prototype.find.call(cover.options, function (o) { return o.value === item.path; });
          if (!option) {
            option = document.createElement("option");
            option.value = option.textContent = item.path;
            cover.insertBefore(option, cover.options[1] || null);
          }
          cover.value = item.path;
          cover.dispatchEvent(new Event("input", { bubbles: true }));
          cover.focus();
        }
      });
    });
    cover.parentElement.appendChild(chooseCover);
  }
})();
