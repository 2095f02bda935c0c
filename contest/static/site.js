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

// Autosave when leaving the page. htmx saves 1.5 s after typing stops and at every change; a
// person who switches tab, locks the phone or follows a link sooner would lose the last words.
// So when the page is hidden or left with edits not yet saved, the same form goes to the same
// autosave endpoint with fetch keepalive (it outlives the page), carrying the CSRF header and
// the version the editor loaded: the server's version check applies as to any save. Without
// JavaScript nothing here runs and the Save button posts the form as before.
(function () {
  var KEEPALIVE_LIMIT = 60000; // browsers refuse keepalive bodies over 64 KB
  var form = null, edits = 0, saved = 0, sent = 0, mark = 0, inFlight = false;
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function isAutosave(evt) { return form && evt.detail && evt.detail.elt === form; }
  function body() { return new URLSearchParams(new FormData(form)).toString(); }
  function apply(text) {
    // The reply is the save-status partial: show it, and take the new version it carries.
    var doc = new DOMParser().parseFromString(text, "text/html");
    var version = doc.getElementById("f-version");
    var mine = document.getElementById("f-version");
    if (version && mine) { mine.value = version.value; }
    var status = doc.getElementById("save-status"), here = document.getElementById("save-status");
    if (status && here) { here.replaceWith(status); }
  }
  function saveNow() {
    if (!form || edits <= Math.max(saved, sent) || inFlight) { return; }
    var data = body(), upTo = edits;
    sent = upTo;
    try {
      fetch(form.getAttribute("hx-post"), {
        method: "POST", credentials: "same-origin", keepalive: data.length <= KEEPALIVE_LIMIT,
        headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrfToken(),
                  "HX-Request": "true"},
        body: data
      }).then(function (resp) {
        return resp.text().then(function (text) {
          if (resp.ok) { saved = Math.max(saved, upTo); }
          else { sent = saved; }
          apply(text);
        });
      }).catch(function () { sent = saved; });
    } catch (e) { sent = saved; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("entry-form");
    if (!form || !form.getAttribute("hx-post") || !window.fetch || !window.URLSearchParams || !window.FormData) {
      form = null;
      return;
    }
    // Typing, picking a date, ticking the box: every edit fires "input" (change comes later,
    // after htmx has already taken the values for its immediate save).
    form.addEventListener("input", function () { edits++; });
    // What htmx sends is saved once it answers 200; edits made meanwhile stay unsaved.
    document.body.addEventListener("htmx:configRequest", function (evt) { if (isAutosave(evt)) { mark = edits; } });
    document.body.addEventListener("htmx:beforeRequest", function (evt) { if (isAutosave(evt)) { inFlight = true; } });
    document.body.addEventListener("htmx:afterRequest", function (evt) {
      if (!isAutosave(evt)) { return; }
      inFlight = false;
      if (evt.detail.xhr && evt.detail.xhr.status === 200) { saved = Math.max(saved, mark); }
    });
    // A normal save or submit of the form itself needs no second save on the way out.
    form.addEventListener("submit", function () { saved = edits; });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { saveNow(); }
    });
    window.addEventListener("pagehide", saveNow);
    window.addEventListener("beforeunload", function (evt) {
      // Too much text for a keepalive request, or an autosave still on its way: ask first.
      if (form && edits > saved && (inFlight || body().length > KEEPALIVE_LIMIT)) {
        evt.preventDefault();
        evt.returnValue = "";
      }
    });
  });
})();

// A "print this page" button (shown only when this file runs).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});

// Copy buttons beside fingerprints (shown only when the browser can copy); without this file the
// fingerprint is plain text to select.
document.addEventListener("DOMContentLoaded", function () {
  if (!navigator.clipboard || !window.isSecureContext) { return; }
  var status = document.createElement("p");
  status.className = "sr-only";
  status.setAttribute("role", "status");
  document.body.appendChild(status);
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        status.textContent = button.getAttribute("data-copied");
        button.classList.add("copied");
        setTimeout(function () { button.classList.remove("copied"); status.textContent = ""; }, 2500);
      });
    });
  });
});
