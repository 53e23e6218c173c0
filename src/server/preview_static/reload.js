// quire live reload: injected into preview pages only (never into public/).
// Reloads the page when a rebuild changed it; shows build errors over the
// page while the last good version stays visible underneath.
(function () {
  "use strict";
  var overlay = null;
  // The build this page came from; a newer one on connect means we missed it.
  var script = document.currentScript;
  var pageBuild = Number(script && script.getAttribute("data-build")) || 0;
  function page() {
    var path = location.pathname;
    try { path = decodeURIComponent(path); } catch (e) { /* keep it encoded */ }
    path = path.replace(/^\//, "");
    if (path === "" || path.charAt(path.length - 1) === "/") path += "index.html";
    return path;
  }
  function showErrors(errors) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.setAttribute("role", "alert");
      overlay.id = "quire-build-errors";
      var s = overlay.style;
      s.position = "fixed"; s.left = "0"; s.right = "0"; s.bottom = "0"; s.maxHeight = "50vh";
      s.overflow = "auto"; s.zIndex = "2147483647"; s.margin = "0"; s.padding = "1rem 1.25rem";
      s.background = "#2b0b0b"; s.color = "#ffe9e9"; s.font = "14px/1.5 ui-monospace, monospace";
      s.borderTop = "4px solid #ff5c5c";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "";
    var title = document.createElement("strong");
    title.textContent = "The last change does not build; this page shows the last good version.";
    overlay.appendChild(title);
    var list = document.createElement("ul");
    errors.forEach(function (error) {
      var item = document.createElement("li");
      item.textContent = error;
      list.appendChild(item);
    });
    overlay.appendChild(list);
  }
  var events = new EventSource("/__quire/events");
  events.addEventListener("build", function (event) {
    var build = JSON.parse(event.data);
    if (!build.ok) { showErrors(build.errors); return; }
    if (build.id <= pageBuild && overlay === null) return;
    var missed = build.id > pageBuild + 1;
    pageBuild = build.id;
    var here = page();
    var stale = overlay !== null || missed || build.everything ||
      build.changed.indexOf(here) >= 0 ||
      build.changed.some(function (file) { return /\.(css|js)$/.test(file); });
    if (stale) location.reload();
  });
})();
