/* Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can forbid inline script:
 * - <select data-autosubmit> submits its form when changed (language menu, plan picker);
 * - a change layer's page reloads once its scan finishes (the progress fragment sends HX-Trigger: layer-finished);
 * - <button data-print> prints the page (printable reports). */
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-print]") : null;
    if (el) window.print();
  });
  document.addEventListener("layer-finished", function () {
    if (!document.getElementById("layer-leads")) window.location.reload();
  });
})();
