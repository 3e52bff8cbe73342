"use strict";
// Filters and copy buttons. The report reads completely without this script; it only hides rows and copies text.
document.documentElement.classList.add("js");
(function () {
  var form = document.querySelector("form.filters");
  var rules = Array.prototype.slice.call(document.querySelectorAll("article.rule"));
  var counter = document.getElementById("visible-count");
  function value(name) { var field = form.querySelector("[data-filter='" + name + "']"); return field ? field.value.trim().toLowerCase() : ""; }
  function apply() {
    var outcome = value("outcome"), severity = value("severity"), server = value("server"), tag = value("tag"), text = value("text");
    var framework = value("framework");
    var visibleRows = 0;
    rules.forEach(function (rule) {
      var ruleMatches = (!severity || rule.dataset.severity === severity) &&
        (!tag || (" " + rule.dataset.tags + " ").indexOf(" " + tag + " ") >= 0) &&
        (!framework || (" " + rule.dataset.frameworks + " ").indexOf(" " + framework + " ") >= 0);
      var rows = Array.prototype.slice.call(rule.querySelectorAll("tr.finding"));
      var shownRows = 0;
      rows.forEach(function (row) {
        var show = ruleMatches && (!outcome || row.dataset.outcome === outcome) &&
          (!server || row.dataset.server.toLowerCase() === server) &&
          (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
        row.classList.toggle("hidden", !show);
        if (show) { shownRows += 1; }
      });
      // A rule without finding rows (passed, not applicable) is matched on its own outcome and heading.
      var ruleShown = rows.length ? shownRows > 0 : ruleMatches && !server &&
        (!outcome || rule.dataset.outcome === outcome) &&
        (!text || rule.textContent.toLowerCase().indexOf(text) >= 0);
      rule.classList.toggle("hidden", !ruleShown);
      visibleRows += shownRows;
    });
    if (counter) { counter.textContent = visibleRows + " " + document.body.getAttribute("data-rows-shown"); }
  }
  if (form) {
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    apply();
  }
  function copied(button) {
    var label = button.textContent;
    button.textContent = document.body.getAttribute("data-copied");
    setTimeout(function () { button.textContent = label; }, 1200);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.copy") : null;
    if (!button) { return; }
    var command = button.getAttribute("data-command");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(command).then(function () { copied(button); });
      return;
    }
    // file:// pages are not a secure context in every browser: fall back to a selection and execCommand.
    var area = document.createElement("textarea");
    area.value = command; document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); copied(button); } finally { document.body.removeChild(area); }
  });
})();
