// leftovers pages: progressive enhancement only; every page works without this file.
"use strict";
(function () {
  // "Copy as JSON": fetch the view's JSON (same origin, same session) and put it on the
  // clipboard; without a clipboard the link simply opens the JSON.
  function copyJson(event) {
    var link = event.currentTarget;
    if (!navigator.clipboard || !window.fetch) { return; }
    event.preventDefault();
    var status = document.getElementById("copy-status");
    status.textContent = "Copying…";
    fetch(link.href, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.text();
      })
      .then(function (text) { return navigator.clipboard.writeText(text).then(function () { return text; }); })
      .then(function (text) {
        var count = JSON.parse(text).count;
        status.textContent = "Copied " + count + " leftover" + (count === 1 ? "" : "s") + " as JSON.";
        link.setAttribute("data-copied", String(count));
      })
      .catch(function (error) {
        status.textContent = "Could not copy (" + error.message + "); opening the JSON instead.";
        window.location.href = link.href;
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var links = document.querySelectorAll("[data-copy-json]");
    for (var i = 0; i < links.length; i += 1) { links[i].addEventListener("click", copyJson); }
  });
}());
