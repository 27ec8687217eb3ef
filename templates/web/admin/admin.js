// Live preview of the editor's intro: the server renders and sanitises the Markdown.
(function () {
  "use strict";
  var intro = document.getElementById("intro");
  var preview = document.getElementById("intro-preview");
  var form = document.getElementById("edit-form");
  if (!intro || !preview || !form) return;
  var timer = null;
  intro.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var body = new URLSearchParams();
      body.set("csrf_token", form.elements["csrf_token"].value);
      body.set("intro_markdown", intro.value);
      fetch(preview.dataset.url, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(); })
        .then(function (html) { preview.innerHTML = html; preview.dataset.state = "fresh"; })
        .catch(function () { preview.dataset.state = "error"; });
    }, 250);
  });
})();
