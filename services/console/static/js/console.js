// Every page's script: htmx sends the session's CSRF token, an error summary takes the focus and its links focus their fields, and CSS learns that JavaScript runs.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
  });

  // A link of the error summary takes the person to the field itself, ready to type (ids may hold brackets: recipients[0].name).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".error-summary a[href^='#']") : null;
    var target = link ? document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1))) : null;
    if (target && target.focus) {
      event.preventDefault();
      target.scrollIntoView({ block: "center" });
      target.focus();
    }
  });
})();
