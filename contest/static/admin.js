/* Administration pages of judging: progressive enhancements (every form works without them). */
(function () {
  "use strict";
  // Reopening a sheet swaps only its row; the row's 409/422 answers carry the message to show.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr && evt.detail.xhr.status;
    var elt = evt.detail.elt;
    if ((status === 409 || status === 422) && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  // Eligibility: a "select all on this page" box.
  document.addEventListener("DOMContentLoaded", function () {
    var all = document.querySelector("input[data-select-all]");
    if (!all) { return; }
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="entry_ids"]').forEach(function (box) { box.checked = all.checked; });
    });
  });
})();
