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

  // An autosave that did not come back as a status (session expired and the log-in page came
  // back instead, a server error, no connection) must say so, not vanish or swap in a page.
  function isThai() { return (document.documentElement.lang || "th") === "th"; }
  function showStatus(message) {
    var status = document.getElementById("save-status");
    if (!status) { return; }
    status.className = "save-status bad";
    status.textContent = message;
  }
  function notSaved(code) {
    if (code === 401 || code === 403 || code === 0) {
      return isThai() ? "ยังไม่ได้บันทึก: การเข้าสู่ระบบหมดอายุหรือแบบฟอร์มหมดอายุ คะแนนยังอยู่ในแบบฟอร์ม กรุณาเข้าสู่ระบบในแท็บใหม่ แล้วกด “บันทึก” อีกครั้ง"
                      : "Not saved: your session or this form has expired. Your scores are still in the form: log in again in a new tab, then press “Save”.";
    }
    return isThai() ? "ยังไม่ได้บันทึก (รหัส " + code + ") คะแนนยังอยู่ในแบบฟอร์ม กรุณากด “บันทึก” อีกครั้ง"
                    : "Not saved (code " + code + "). Your scores are still in the form; press “Save” again.";
  }
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target;
    if (!target || target.id !== "save-status" || !document.querySelector("form.score-form")) { return; }
    var text = evt.detail.xhr ? evt.detail.xhr.responseText || "" : "";
    if (text.indexOf('id="save-status"') === -1) {
      evt.detail.shouldSwap = false;
      var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
      showStatus(notSaved(status === 200 ? 401 : status));
    }
  });
  document.addEventListener("htmx:sendError", function (evt) {
    if (document.querySelector("form.score-form")) {
      showStatus(isThai() ? "ยังไม่ได้บันทึก: การเชื่อมต่อขาดหาย คะแนนยังอยู่ในแบบฟอร์ม ระบบจะบันทึกเมื่อท่านแก้ไขครั้งถัดไปหรือกดส่ง"
                          : "Not saved: the connection was lost. Your scores are still in the form and are saved with your next change or when you submit.");
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    syncInvalid();
    if (evt.detail.target && evt.detail.target.id === "file-viewer") {
      var heading = document.getElementById("viewer-h");
      if (heading) { heading.focus(); }
    }
  });

  // Enter in a score moves on to the next field (leaving the field saves it) and never submits
  // the form by surprise: submitting locks the scores, so it takes the "Submit" button itself.
  document.addEventListener("keydown", function (evt) {
    var input = evt.target;
    if (evt.key !== "Enter" || evt.altKey || evt.ctrlKey || evt.metaKey || evt.isComposing) { return; }
    if (!input || input.tagName !== "INPUT" || !input.closest || !input.closest("form.score-form")) { return; }
    evt.preventDefault();
    var fields = input.form.querySelectorAll('input[type="number"], textarea[name="comment"]');
    for (var i = 0; i < fields.length; i++) {
      if (fields[i] === input) {
        var next = fields[evt.shiftKey ? i - 1 : i + 1];
        if (next) { next.focus(); } else { input.blur(); input.focus(); }
        return;
      }
    }
  });

  // When the scoring page opens the cursor is in the first criterion not yet scored, so a member
  // can score, submit and go on with the keyboard alone, on every screen size. On a narrow
  // screen the entry comes first: the page is not scrolled past it (it scrolls to the field as
  // soon as the member types).
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.score-form[data-autofocus]");
    if (!form || document.querySelector(".error-summary")) { return; }
    var wide = window.matchMedia && window.matchMedia("(min-width: 60rem)").matches;
    var inputs = form.querySelectorAll('input[type="number"]');
    var target = null;
    for (var i = 0; i < inputs.length; i++) {
      if (!inputs[i].value) { target = inputs[i]; break; }
    }
    target = target || inputs[0];
    if (target) { target.focus({preventScroll: !wide}); }
  });
})();
