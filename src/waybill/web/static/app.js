// Optional progressive enhancement: every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Filter forms apply as soon as a choice changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Timestamps are sent in UTC; show them in the reader's own time zone as well.
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when.getTime())) { el.title = when.toLocaleString(); }
  });
  // Copy buttons for long digests.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard) { navigator.clipboard.writeText(button.getAttribute("data-copy")); button.textContent = "Copied"; }
    });
  });
});
