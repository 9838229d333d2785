// The navigation search box as an ARIA combobox: htmx fetches grouped suggestions as you type
// (300 ms debounce, declared on the input); this file adds the keyboard. Arrow keys move through
// the options, Enter opens the highlighted one (or, with none highlighted, submits the form to the
// full results page), Escape closes the list. Without JavaScript the form still submits.
(function () {
  function setup() {
    var input = document.getElementById("nav-q");
    var box = document.getElementById("search-suggest");
    if (!input || !box) return;
    var active = -1;
    var closedFor = null; // the text whose suggestions the user dismissed with Escape

    function options() {
      return Array.prototype.slice.call(box.querySelectorAll('[role="option"]'));
    }
    function highlight(index) {
      var opts = options();
      if (!opts.length) return;
      active = (index + opts.length) % opts.length;
      opts.forEach(function (o, i) {
        o.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", opts[active].id);
      opts[active].scrollIntoView({ block: "nearest" });
    }
    function close() {
      box.innerHTML = "";
      box.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function opened() {
      var has = options().length > 0 && input.value.trim() !== "" && input.value !== closedFor;
      if (!has) return close();
      box.hidden = false;
      active = -1;
      input.setAttribute("aria-expanded", "true");
      input.removeAttribute("aria-activedescendant");
    }

    input.addEventListener("keydown", function (e) {
      var opts = options();
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!opts.length || box.hidden) return;
        e.preventDefault();
        highlight(e.key === "ArrowDown" ? active + 1 : active < 0 ? -1 : active - 1);
      } else if (e.key === "Enter") {
        if (active >= 0 && opts[active] && !box.hidden) {
          e.preventDefault();
          window.location.assign(opts[active].href);
        }
      } else if (e.key === "Escape") {
        if (!box.hidden) {
          e.preventDefault();
          closedFor = input.value;
          close();
        }
      }
    });
    input.addEventListener("input", function () {
      closedFor = null;
      if (!input.value.trim()) close();
    });
    box.addEventListener("mousemove", function (e) {
      var opt = e.target.closest('[role="option"]');
      if (opt) highlight(options().indexOf(opt));
    });
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail && e.detail.target === box) opened();
    });
    document.addEventListener("click", function (e) {
      if (!input.form.contains(e.target)) close();
    });
    input.form.addEventListener("focusout", function (e) {
      if (e.relatedTarget && !input.form.contains(e.relatedTarget)) close();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
