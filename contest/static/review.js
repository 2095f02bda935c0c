// Scoring page, progressive enhancement only: the form, the links and the buttons work without it.
(function () {
  // Autosave swaps each field's note out of band; keep aria-invalid and the field's frame in step.
  function syncInvalid() {
    var slots = document.querySelectorAll(".score-form .field-status");
    Array.prototype.forEach.call(slots, function (slot) {
      var input = document.getElementById("f-" + slot.id.replace(/^fs-/, ""));
      if (!input) { return; }
      var bad = !!slot.querySelector(".error");
      if (bad) {
        input.setAttribute("aria-invalid", "true");
      } else {
        input.removeAttribute("aria-invalid");
      }
      var field = input.closest(".field");
      if (field) { field.classList.toggle("has-error", bad); }
    });
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    syncInvalid();
    if (evt.detail.target && evt.detail.target.id === "file-viewer") {
      var heading = document.getElementById("viewer-h");
      if (heading) { heading.focus(); }
    }
  });

  // Moving on to the next entry: the cursor starts in the first criterion not yet scored, so a
  // member can score, submit and go on with the keyboard alone. Only where entry and rubric sit
  // side by side (on a phone the entry comes first and must not be skipped).
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.score-form[data-autofocus]");
    if (!form || document.querySelector(".error-summary")) { return; }
    if (!window.matchMedia || !window.matchMedia("(min-width: 60rem)").matches) { return; }
    var inputs = form.querySelectorAll('input[type="number"]');
    var target = null;
    for (var i = 0; i < inputs.length; i++) {
      if (!inputs[i].value) { target = inputs[i]; break; }
    }
    target = target || inputs[0];
    if (target) { target.focus(); }
  });
})();
