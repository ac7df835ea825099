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

  function init(root) {
    root.querySelectorAll("[data-filter-select]").forEach(bindSelectFilter);
    root.querySelectorAll("[data-filter-list]").forEach(bindListFilter);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
