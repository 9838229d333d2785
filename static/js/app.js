// Small behaviours shared by every page. Pages work without it; it only adds comfort.
// (No inline handlers anywhere: the content security policy allows scripts from /static/ only.)
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el.matches && el.matches("[data-autosubmit]") && el.form) el.form.submit();
});
