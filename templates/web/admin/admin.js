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

// Drag reorder of a draft's stories: a progressive enhancement over the up/down buttons, which
// keyboard users keep. A drop moves the row, renumbers the position_<id> fields and posts the
// whole form (CSRF token and all, so nothing typed is lost) with reordered=1; the server saves.
(function () {
  "use strict";
  var form = document.getElementById("edit-form");
  var table = document.getElementById("stories");
  if (!form || !table || !("draggable" in document.createElement("span"))) return;
  var status = document.getElementById("order-status");
  var rows = function () { return Array.prototype.slice.call(table.querySelectorAll("tr.story-row")); };
  var dragged = null;
  document.getElementById("drag-help").hidden = false;
  rows().forEach(function (row) {
    var handle = row.querySelector(".drag-handle");
    handle.hidden = false;
    handle.setAttribute("draggable", "true");
    handle.addEventListener("dragstart", function (event) {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.dataset.post);
      event.dataTransfer.setDragImage(row, 20, 20);
    });
    handle.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      dragged = null;
    });
    row.addEventListener("dragover", function (event) {
      if (!dragged || dragged === row) return;
      event.preventDefault();
      var box = row.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
    });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      save();
    });
  });
  function save() {
    var order = rows();
    order.forEach(function (row, index) {
      form.elements["position_" + row.dataset.post].value = String(index);
      row.querySelector("button[value^='up:']").disabled = index === 0;
      row.querySelector("button[value^='down:']").disabled = index === order.length - 1;
    });
    var body = new FormData(form);
    body.set("reordered", "1");
    body.delete("story_url");  // an address half typed is added by its own button, not by a drag
    status.textContent = "Saving the new order…";
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        status.textContent = response.ok ? "Order saved, and the issue re-rendered."
          : "The order was not saved: press Save to see why.";
      })
      .catch(function () { status.textContent = "The order was not saved: press Save to try again."; });
  }
})();
