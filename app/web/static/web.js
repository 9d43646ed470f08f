// Forms that help, without a build step or a CDN:
// - after a refused submit, focus moves to the error summary (its items link to the fields);
// - a submitted form is busy: its button says so, and a second click does not send it again.
(function () {
  "use strict";
  // Tables become stacked rows on a phone (web.css): each cell gets its column's name.
  function stackTables() {
    document.querySelectorAll("table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) {
        return;
      }
      var names = Array.prototype.map.call(heads, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (!cell.hasAttribute("data-label") && names[i]) {
            cell.setAttribute("data-label", names[i]);
          }
        });
      });
      table.classList.add("stack");
    });
  }
  function ready() {
    stackTables();
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
    document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var field = document.getElementById(link.getAttribute("href").slice(1));
        if (field) {
          event.preventDefault();
          field.focus();
        }
      });
    });
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("aria-busy") === "true") {
          event.preventDefault();
          return;
        }
        form.setAttribute("aria-busy", "true");
        var button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
        if (button) {
          button.classList.add("busy");
          button.setAttribute("aria-disabled", "true");
        }
      });
    });
  }
  // Back from another page (the browser's page cache): the forms are no longer busy.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy='true']").forEach(function (form) {
      form.removeAttribute("aria-busy");
      form.querySelectorAll(".busy").forEach(function (button) {
        button.classList.remove("busy");
        button.removeAttribute("aria-disabled");
      });
    });
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
