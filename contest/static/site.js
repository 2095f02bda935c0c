// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary[tabindex]");
  if (summary) { summary.focus(); }
});

// htmx does not swap 4xx responses by default; the autosave partials for 409 (someone else
// saved) and 422 (a field to fix) are meant to be shown.
document.addEventListener("htmx:beforeSwap", function (evt) {
  var status = evt.detail.xhr && evt.detail.xhr.status;
  if ((status === 409 || status === 422) && evt.detail.target && evt.detail.target.id === "save-status") {
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  }
});

// Attachments: upload with a progress bar, then swap the list. Without JS the form posts normally.
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function isThai() { return (document.documentElement.lang || "th") === "th"; }
  function showError(form, message) {
    var el = form.querySelector(".error#e-file") || form.querySelector(".error");
    if (el) { el.textContent = message; el.hidden = false; }
    var input = form.querySelector('input[type="file"]');
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.matches || !form.matches("form[data-upload]") || !window.FormData || !window.XMLHttpRequest) { return; }
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files || !input.files.length) {
      evt.preventDefault();
      showError(form, isThai() ? "กรุณาเลือกไฟล์ที่จะอัปโหลด" : "Choose a file to upload.");
      return;
    }
    evt.preventDefault();
    var box = form.querySelector(".upload-progress");
    var bar = box ? box.querySelector("progress") : null;
    var pct = box ? box.querySelector(".upload-percent") : null;
    var button = form.querySelector('button[type="submit"]');
    if (box) { box.hidden = false; }
    if (button) { button.disabled = true; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var p = Math.floor((e.loaded / e.total) * 100);
      if (bar) { bar.value = p; }
      if (pct) { pct.textContent = p + "%"; }
    });
    function done() { if (button) { button.disabled = false; } if (box) { box.hidden = true; } }
    xhr.addEventListener("load", function () {
      var section = document.getElementById("attachments");
      if (section && xhr.responseText.indexOf('id="attachments"') !== -1) {
        section.outerHTML = xhr.responseText;
        var fresh = document.getElementById("attachments");
        var err = fresh && fresh.querySelector(".error#e-file:not([hidden])");
        var focusTarget = err ? fresh.querySelector('input[type="file"]') : fresh && fresh.querySelector("h2");
        if (focusTarget) { if (!err) { focusTarget.setAttribute("tabindex", "-1"); } focusTarget.focus(); }
        return;
      }
      done();
      if (xhr.status === 403) {
        showError(form, isThai() ? "แบบฟอร์มหมดอายุ กรุณาโหลดหน้านี้ใหม่แล้วลองอีกครั้ง"
                                 : "This form has expired. Reload the page and try again.");
      } else {
        showError(form, (isThai() ? "อัปโหลดไม่สำเร็จ (รหัส " : "The upload failed (code ") + xhr.status + ")");
      }
    });
    xhr.addEventListener("error", function () {
      done();
      showError(form, isThai() ? "การเชื่อมต่อขาดหายระหว่างส่งไฟล์ ระบบไม่ได้บันทึกไฟล์นี้ กรุณาลองใหม่"
                               : "The connection was lost while sending. Nothing was saved; please try again.");
    });
    xhr.send(new FormData(form));
  });
})();
