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

// A send's progress on the issue page: the figures from progress.json every few seconds; the
// page reloads once the issue is no longer sending, to show its results.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) return;
  var bar = document.getElementById("send-progress");
  function update(figures) {
    Object.keys(figures).forEach(function (name) {
      var cell = box.querySelector('[data-count="' + name + '"]');
      if (cell) cell.textContent = String(figures[name]);
    });
    bar.max = figures.total || 1;
    bar.value = figures.total - figures.remaining;
  }
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(); })
      .then(function (figures) {
        update(figures);
        if (figures.status !== "sending") { window.location.reload(); return; }
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 10000); });
  }
  setTimeout(poll, 3000);
})();
