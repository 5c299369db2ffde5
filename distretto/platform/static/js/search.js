// Global search in the navbar: "/" or Ctrl+K focuses it, results come live (htmx),
// arrow keys move through them, Esc closes them. Without JavaScript the form
// still submits to the search page.
(function () {
  "use strict";

  function box() { return document.getElementById("global-search"); }
  function panel() { return document.getElementById("global-search-results"); }
  function links() {
    var p = panel();
    return p ? Array.prototype.slice.call(p.querySelectorAll("a.search-result")) : [];
  }
  function open() {
    var p = panel(), input = box();
    if (!p || !input) { return; }
    var full = p.textContent.trim() !== "" && input.value.trim() !== "";
    p.classList.toggle("show", full);
  }
  function close(refocus) {
    var p = panel();
    if (p) { p.classList.remove("show"); }
    if (refocus && box()) { box().focus(); }
  }
  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }
  function focusSearch() {
    var input = box();
    if (!input) { return false; }
    var collapse = input.closest(".navbar-collapse");
    if (collapse && !collapse.classList.contains("show") && window.bootstrap) {
      window.bootstrap.Collapse.getOrCreateInstance(collapse).show();
    }
    input.focus();
    input.select();
    open();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var key = event.key;
    if ((event.ctrlKey || event.metaKey) && (key === "k" || key === "K")) {
      if (focusSearch()) { event.preventDefault(); }
      return;
    }
    if (key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      if (focusSearch()) { event.preventDefault(); }
      return;
    }
    var input = box(), p = panel();
    if (!input || !p) { return; }
    var inside = event.target === input || p.contains(event.target);
    if (!inside) { return; }
    if (key === "Escape") {
      if (p.classList.contains("show")) {
        event.preventDefault();
        close(true);
      } else if (event.target === input) {
        input.blur();
      }
      return;
    }
    if (key !== "ArrowDown" && key !== "ArrowUp") { return; }
    var items = links();
    if (!items.length) { return; }
    event.preventDefault();
    open();
    var index = items.indexOf(document.activeElement);
    if (key === "ArrowDown") {
      items[index < 0 ? 0 : Math.min(index + 1, items.length - 1)].focus();
    } else if (index <= 0) {
      input.focus();
    } else {
      items[index - 1].focus();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target === panel()) { open(); }
  });

  document.addEventListener("input", function (event) {
    if (event.target === box() && event.target.value.trim() === "") {
      var p = panel();
      if (p) { p.innerHTML = ""; }
      close(false);
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target === box()) { open(); }
  });

  document.addEventListener("click", function (event) {
    var form = box() && box().form;
    if (form && !form.contains(event.target)) { close(false); }
  });
})();
