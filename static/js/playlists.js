// Playlist page: drag-and-drop reordering (the up/down buttons work without it), and focus kept
// on the moved track's button after a keyboard move so that keyboard users can keep moving it.
(function () {
  "use strict";

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function replaceTracks(html) {
    var current = document.getElementById("tracks");
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!current || !fresh) return;
    current.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
    setup();
  }

  function saveOrder(list) {
    var ids = Array.prototype.map.call(list.querySelectorAll("li[data-entry]"), function (li) {
      return li.dataset.entry;
    });
    var body = new URLSearchParams({ order: ids.join(",") });
    fetch(list.dataset.reorderUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(replaceTracks)
      .catch(function () { window.location.reload(); });
  }

  function setup() {
    var list = document.querySelector(".pl-tracks[data-reorder-url]");
    if (!list || list.dataset.ready) return;
    list.dataset.ready = "1";
    var dragged = null;
    list.addEventListener("dragstart", function (e) {
      dragged = e.target.closest("li[data-entry]");
      if (!dragged) return;
      dragged.classList.add("is-dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragged.dataset.entry);
    });
    list.addEventListener("dragover", function (e) {
      if (!dragged) return;
      e.preventDefault();
      var over = e.target.closest("li[data-entry]");
      if (!over || over === dragged) return;
      var box = over.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("drop", function (e) {
      e.preventDefault();
    });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("is-dragging");
      dragged = null;
      saveOrder(list);
    });
  }

  document.addEventListener("htmx:afterSwap", function () {
    setup();
    var tracks = document.getElementById("tracks");
    var focus = tracks && tracks.dataset.focus;
    if (focus) {
      var button = document.getElementById(focus);
      // At the top or bottom the moved button is disabled: focus its enabled twin instead.
      if (button && button.disabled) {
        button = document.getElementById(focus.replace(/-(up|down)$/, function (m, d) {
          return d === "up" ? "-down" : "-up";
        }));
      }
      if (button) button.focus();
    }
  });
  document.addEventListener("DOMContentLoaded", setup);
})();
