/* Pickers on the organisers' forms, made quicker: every one works without this script (its
   buttons submit the form and the page comes back changed), and this script does the same in
   the page. Ordered lists move steps up and down, rows are added and removed, and a search
   lists its matches as one types. */
(function () {
  "use strict";

  function announce(box, text) {
    var live = box.querySelector("[data-live]");
    if (!live) {
      live = document.createElement("p");
      live.className = "sr-only";
      live.setAttribute("data-live", "");
      live.setAttribute("aria-live", "polite");
      box.appendChild(live);
    }
    live.textContent = text;
  }

  function fill(template, values) {
    return (template || "").replace(/%(\w+)%/g, function (_, key) { return values[key] || ""; });
  }

  // --- an ordered list (the tie-break chain) -------------------------------------------------
  function orderPicker(box) {
    var list = box.querySelector("[data-order-list]");
    var select = box.querySelector("[data-order-add] select");
    var addButton = box.querySelector("[data-order-add] button");
    var empty = box.querySelector("[data-order-empty]");

    function refresh() {
      var items = list.querySelectorAll("li");
      var used = {};
      items.forEach(function (li, i) {
        used[li.getAttribute("data-code")] = true;
        li.querySelectorAll("button[data-move]").forEach(function (b) {
          var move = b.getAttribute("data-move");
          b.value = "tie-" + move + "-" + i;
          b.disabled = (move === "up" && i === 0) || (move === "down" && i === items.length - 1);
        });
      });
      if (empty) { empty.hidden = items.length > 0; }
      if (select) {
        var first = null;
        Array.prototype.forEach.call(select.options, function (o) {
          o.hidden = o.disabled = !!used[o.value];
          if (!o.disabled && first === null) { first = o; }
        });
        if (first) { select.value = first.value; }
        addButton.disabled = first === null;
      }
    }

    function nameOf(li) { return li.querySelector(".order-name").textContent; }

    box.addEventListener("click", function (evt) {
      var button = evt.target.closest("button");
      if (!button || !box.contains(button)) { return; }
      var li = button.closest("li");
      var move = button.getAttribute("data-move");
      if (button === addButton) {
        var option = select.options[select.selectedIndex];
        var model = list.querySelector("li");
        if (!model) { return; } // no step to copy: the form adds it
        evt.preventDefault();
        if (!option || option.disabled) { return; }
        var item = model.cloneNode(true);
        item.setAttribute("data-code", option.value);
        item.querySelector("input[type=hidden]").value = option.value;
        item.querySelector(".order-name").textContent = option.getAttribute("data-name") || option.textContent;
        item.querySelector("code").textContent = option.value;
        item.querySelectorAll("button[data-move]").forEach(function (b) {
          b.setAttribute("aria-label", fill(b.getAttribute("data-label"), {name: item.querySelector(".order-name").textContent}));
          b.removeAttribute("autofocus");
        });
        list.appendChild(item);
        refresh();
        announce(box, fill(box.getAttribute("data-added"), {name: nameOf(item), n: String(list.children.length)}));
        (addButton.disabled ? item.querySelector('button[data-move="up"]') : select).focus();
        return;
      }
      if (!li || !move) { return; }
      evt.preventDefault();
      if (move === "remove") {
        var next = li.nextElementSibling || li.previousElementSibling;
        var name = nameOf(li);
        li.remove();
        refresh();
        announce(box, fill(box.getAttribute("data-removed"), {name: name}));
        (next ? next.querySelector('button[data-move="remove"]') : select).focus();
        return;
      }
      if (move === "up" && li.previousElementSibling) {
        list.insertBefore(li, li.previousElementSibling);
      } else if (move === "down" && li.nextElementSibling) {
        list.insertBefore(li.nextElementSibling, li);
      }
      refresh();
      var position = Array.prototype.indexOf.call(list.children, li) + 1;
      announce(box, fill(box.getAttribute("data-moved"), {name: nameOf(li), n: String(position)}));
      (button.disabled ? li.querySelector('button[data-move="' + (move === "up" ? "down" : "up") + '"]') : button).focus();
    });
    refresh();
  }

  // --- rows added and removed (the categories) ----------------------------------------------
  function rowsPicker(box) {
    var body = box.querySelector("[data-rows]");

    function renumber() {
      body.querySelectorAll("[data-row]").forEach(function (row, i) {
        row.querySelectorAll("[name], [id], [aria-label], button[value]").forEach(function (el) {
          ["name", "id"].forEach(function (attr) {
            var v = el.getAttribute(attr);
            if (v) { el.setAttribute(attr, v.replace(/-\d+-/, "-" + i + "-")); }
          });
          var label = el.getAttribute("aria-label");
          if (label) { el.setAttribute("aria-label", label.replace(/\d+/, String(i + 1))); }
          if (el.tagName === "BUTTON" && el.value) { el.value = el.value.replace(/\d+$/, String(i)); }
        });
      });
    }

    box.addEventListener("click", function (evt) {
      var button = evt.target.closest("button");
      if (!button || !box.contains(button)) { return; }
      var rows = body.querySelectorAll("[data-row]");
      if (button.hasAttribute("data-add-row")) {
        evt.preventDefault();
        var row = rows[rows.length - 1].cloneNode(true);
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
        body.appendChild(row);
        renumber();
        row.querySelector("input").focus();
        return;
      }
      if (button.hasAttribute("data-remove-row")) {
        evt.preventDefault();
        var current = button.closest("[data-row]");
        if (rows.length === 1) {
          current.querySelectorAll("input").forEach(function (input) { input.value = ""; });
          current.querySelector("input").focus();
          return;
        }
        var next = current.nextElementSibling || current.previousElementSibling;
        current.remove();
        renumber();
        next.querySelector("button[data-remove-row]").focus();
      }
    });
  }

  // --- a search that lists its matches as one types ------------------------------------------
  function searchPicker(form) {
    var target = document.getElementById(form.getAttribute("data-picker-search"));
    var input = form.querySelector("input[type=search]");
    if (!target || !input || !window.fetch || !window.DOMParser) { return; }
    var timer = null;
    var asked = 0;

    function search() {
      var params = new URLSearchParams(new FormData(form));
      var url = form.getAttribute("action") + "?" + params.toString();
      var mine = ++asked;
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (resp) {
        return resp.ok ? resp.text() : null;
      }).then(function (html) {
        if (html === null || mine !== asked) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(target.id);
        if (!fresh) { return; }
        target.innerHTML = fresh.innerHTML;
        // Say how many were found (the list's legend), or that nothing was.
        var said = target.querySelector("legend, [data-found]");
        announce(form, said ? said.textContent.trim() : "");
        // The other searches on the page carry this one along.
        document.querySelectorAll("form").forEach(function (other) {
          if (other === form) { return; }
          other.querySelectorAll('input[type=hidden][name="' + input.name + '"]').forEach(function (h) {
            h.value = input.value;
          });
        });
        if (window.history && window.history.replaceState) { window.history.replaceState(null, "", url); }
      }).catch(function () { /* the search button still works */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 300);
    });
    form.addEventListener("submit", function (evt) {
      evt.preventDefault();
      window.clearTimeout(timer);
      search();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-order-picker]").forEach(orderPicker);
    document.querySelectorAll("[data-rows-picker]").forEach(rowsPicker);
    document.querySelectorAll("form[data-picker-search]").forEach(searchPicker);
  });
})();
