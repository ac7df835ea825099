/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  function normalise(text) {
    return (text || "").toLowerCase().replace(/\s+/g, "");
  }

  // <input data-filter-select="id-of-select">: hide the options of a long <select> that do not match.
  function bindSelectFilter(input) {
    var select = document.getElementById(input.dataset.filterSelect);
    if (!select) return;
    input.addEventListener("input", function () {
      var needle = normalise(input.value);
      var firstMatch = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !needle || !option.value || normalise(option.text).indexOf(needle) !== -1;
        option.hidden = !match;
        option.disabled = !match && option.value !== "";
        if (match && option.value && firstMatch === null) firstMatch = option;
      });
      if (needle && firstMatch && (select.selectedOptions.length === 0 || select.selectedOptions[0].hidden)) {
        select.value = firstMatch.value;
      }
      select.size = needle ? Math.min(8, Math.max(2, select.querySelectorAll("option:not([hidden])").length)) : 0;
    });
  }

  // <input data-filter-list="id-of-container">: hide the rows of a checkbox list that do not match.
  function bindListFilter(input) {
    var list = document.getElementById(input.dataset.filterList);
    if (!list) return;
    input.addEventListener("input", function () {
      var needle = normalise(input.value);
      Array.prototype.forEach.call(list.children, function (row) {
        row.classList.toggle("d-none", !!needle && normalise(row.textContent).indexOf(needle) === -1);
      });
    });
  }

  // <select data-autosubmit>: submit its form on change (the language menu); a <noscript> button does it without JS.
  function bindAutosubmit(select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  }

  // <div data-percent="42">: a progress bar's width (the Content-Security-Policy forbids style="" attributes).
  function applyPercent(bar) {
    var percent = Math.max(0, Math.min(100, parseFloat(bar.dataset.percent) || 0));
    bar.style.width = percent + "%";
  }

  function each(root, selector, bind) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.push(root);
    found.forEach(function (element) {
      if (element.dataset.zbBound === "1") return;
      element.dataset.zbBound = "1";
      bind(element);
    });
  }

  function init(root) {
    each(root, "[data-filter-select]", bindSelectFilter);
    each(root, "[data-filter-list]", bindListFilter);
    each(root, "select[data-autosubmit]", bindAutosubmit);
    root.querySelectorAll("[data-percent]").forEach(applyPercent);
    if (root.matches && root.matches("[data-percent]")) applyPercent(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // Content htmx swaps in (import progress, revealed phone numbers) gets the same behaviour.
  document.addEventListener("htmx:load", function (event) {
    if (event.target && event.target.querySelectorAll) init(event.target);
  });
})();
