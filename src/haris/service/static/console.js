/* haris review console: keyboard shortcuts and small conveniences.
   Everything works without this file; it only saves clicks. Served from 'self' (the CSP allows no inline script).

   j / k      next / previous row in a list; on an item page, next / previous item of the queue
   o, Enter   open the current row
   r          reveal the first blurred image (the reveal is a logged POST)
   d          focus the decision form
   t          take the item (assign it to yourself)
   /          focus the search box
   g then q   go to the queue
   ?          this help; Esc closes it
*/
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("tr.js-row"));
  }

  var current = -1;
  function highlight(i) {
    var list = rows();
    if (!list.length) return false;
    current = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (r, n) { r.classList.toggle("is-current", n === current); });
    list[current].scrollIntoView({ block: "nearest" });
    return true;
  }

  function go(selector) {
    var a = document.querySelector(selector);
    if (a && a.href) { window.location.href = a.href; return true; }
    return false;
  }

  function submit(selector) {
    var f = document.querySelector(selector);
    if (f) { f.requestSubmit ? f.requestSubmit() : f.submit(); return true; }
    return false;
  }

  var help = document.getElementById("help");
  var pendingG = false;

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    var key = ev.key;
    if (pendingG) {
      pendingG = false;
      if (key === "q") { window.location.href = "/queue"; ev.preventDefault(); }
      return;
    }
    var done = false;
    switch (key) {
      case "j":
        done = rows().length ? highlight(current + 1) : go("#nav-next");
        break;
      case "k":
        done = rows().length ? highlight(current - 1) : go("#nav-prev");
        break;
      case "o":
      case "Enter":
        if (key === "Enter" && ev.target !== document.body) break;   // a focused link or button keeps its Enter
        if (current >= 0 && rows()[current]) {
          window.location.href = rows()[current].getAttribute("data-href");
          done = true;
        }
        break;
      case "r":
        done = submit("form.js-reveal");
        break;
      case "d":
        var field = document.querySelector(".js-decision-focus");
        if (field) { field.focus(); field.scrollIntoView({ block: "center" }); done = true; }
        break;
      case "t":
        done = submit("#take-form");
        break;
      case "/":
        var search = document.getElementById("search-input");
        if (search) { search.focus(); done = true; }
        break;
      case "g":
        pendingG = true;
        done = true;
        break;
      case "?":
        if (help && help.showModal) {
          help.open ? help.close() : help.showModal();
          done = true;
        }
        break;
    }
    if (done) ev.preventDefault();
  });

  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr.js-row");
    if (!row || ev.target.closest("a, input, button, label, select")) return;
    window.location.href = row.getAttribute("data-href");
  });

  document.querySelectorAll(".js-autosubmit").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  document.querySelectorAll(".js-select-all").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll('input[name="review_ids"]').forEach(function (c) { c.checked = box.checked; });
    });
  });
})();
