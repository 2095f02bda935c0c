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

  // The sticky Save/Submit bar must never cover the field with the focus (WCAG 2.4.11). The
  // rubric's scroll padding (review.css) is the bar's height, measured here as it changes; after
  // the focus moves, and after an autosave changed a note above the field, the field is brought
  // back into view (the padding counted) if it is not fully shown.
  function bar() { return document.querySelector("form.score-form .form-actions"); }
  function measureBar() {
    var b = bar();
    var rubric = b && b.closest(".rubric");
    if (!rubric) { return; }
    // The bar sticks inside the rubric's padding: what it hides runs to the rubric's bottom edge.
    var style = getComputedStyle(rubric);
    var hidden = b.getBoundingClientRect().height + parseFloat(style.paddingBottom || "0") +
                 parseFloat(style.borderBottomWidth || "0");
    rubric.style.setProperty("--bar-h", Math.ceil(hidden) + "px");
  }
  function sticky(b) { return !!b && getComputedStyle(b).position === "sticky"; }
  // Not fully shown: cut off by the window or a scrolling box around it, or under a sticky bar.
  function hidden(el) {
    var r = el.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) { return true; }
    for (var p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      if (/(auto|scroll)/.test(getComputedStyle(p).overflowY) && p.scrollHeight > p.clientHeight) {
        var pr = p.getBoundingClientRect();
        if (r.top < pr.top || r.bottom > pr.bottom) { return true; }
      }
    }
    var b = bar();
    if (!sticky(b)) { return false; }
    var br = b.getBoundingClientRect();
    return br.top < r.bottom && br.bottom > r.top;
  }
  function inForm(el) {
    return !!(el && el.closest && el.closest("form.score-form") && !el.closest(".form-actions"));
  }
  function bringIntoView(el) {
    measureBar();
    if (hidden(el)) { el.scrollIntoView({block: "nearest", inline: "nearest"}); }
  }
  // A field that gets the focus (Enter, Tab, a link) is brought fully into view, clear of a
  // sticky bar; the browser's own scrolling may leave a tall field half shown. Only the cursor
  // put in the first score when the page opens on a narrow screen leaves the page where it is
  // (the entry comes first there) until the member types.
  var opening = false;
  document.addEventListener("focusin", function (evt) {
    if (inForm(evt.target) && !opening) { bringIntoView(evt.target); }
  });
  document.addEventListener("input", function (evt) {
    if (inForm(evt.target)) { bringIntoView(evt.target); }
  });
  window.addEventListener("resize", measureBar);

  document.addEventListener("htmx:afterSettle", function (evt) {
    syncInvalid();
    if (inForm(document.activeElement)) { bringIntoView(document.activeElement); }
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
    measureBar();
    var form = document.querySelector("form.score-form[data-autofocus]");
    if (!form || document.querySelector(".error-summary")) { return; }
    var wide = window.matchMedia && window.matchMedia("(min-width: 60rem)").matches;
    var inputs = form.querySelectorAll('input[type="number"]');
    var target = null;
    for (var i = 0; i < inputs.length; i++) {
      if (!inputs[i].value) { target = inputs[i]; break; }
    }
    target = target || inputs[0];
    if (target) {
      opening = !wide;
      target.focus({preventScroll: !wide});
      opening = false;
    }
  });
})();
