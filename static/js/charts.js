// Hover and focus tooltips for the server-rendered SVG charts (each mark has data-tip and a
// <title>, so without this script the browser's own tooltip and screen readers still work).
(function () {
  function tipFor(box) {
    var tip = box.querySelector(".chart-tip");
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "chart-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      box.appendChild(tip);
    }
    return tip;
  }
  function show(ev) {
    var mark = ev.target.closest("[data-tip]");
    var box = mark && mark.closest(".chart-box");
    if (!box) return;
    var tip = tipFor(box);
    tip.textContent = mark.getAttribute("data-tip");
    var r = mark.getBoundingClientRect(), b = box.getBoundingClientRect();
    tip.style.left = Math.max(0, r.left - b.left + r.width / 2 - 40) + "px";
    tip.style.top = Math.max(0, r.top - b.top - 28) + "px";
    tip.hidden = false;
  }
  function hide(ev) {
    var box = ev.target.closest && ev.target.closest(".chart-box");
    if (box) tipFor(box).hidden = true;
  }
  document.addEventListener("mouseover", show);
  document.addEventListener("focusin", show);
  document.addEventListener("mouseout", hide);
  document.addEventListener("focusout", hide);
})();
