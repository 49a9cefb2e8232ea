// scrape-tasks dashboard: the pages work without this script; it adds
// confirmation dialogs and live progress pushed by the server (Server-Sent
// Events), without reloading the page.
"use strict";

// Buttons that change a task ask first, and are not sent twice.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  if (form.method.toLowerCase() === "post") {
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.disabled = true;
    });
  }
});

// Fills the elements of one task (a list row or a task page) from an event.
function show(container, data) {
  container.setAttribute("data-status", data.status);
  container.querySelectorAll("[data-field=status]").forEach(function (badge) {
    badge.textContent = data.outcome_text || data.status;
    badge.className = "badge badge-" + (data.outcome || data.status);
  });
  container.querySelectorAll("[data-field=bar]").forEach(function (bar) {
    bar.setAttribute("aria-valuenow", data.percent);
    var fill = bar.querySelector(".fill");
    // A class per percent: the Content Security Policy allows no inline style.
    if (fill) fill.className = "fill w-" + data.percent;
  });
  container.querySelectorAll("[data-field=percent]").forEach(function (el) {
    el.textContent = data.percent + "%";
  });
  Object.keys(data.fields).forEach(function (name) {
    container.querySelectorAll("[data-field=" + name + "]").forEach(function (el) {
      el.textContent = String(data.fields[name]);
    });
  });
  container.querySelectorAll("[data-when]").forEach(function (el) {
    el.hidden = (el.getAttribute("data-when") === "active") !== data.active;
  });
}

// Replaces the sections named in data-refresh with their current version.
function refresher(root) {
  var ids = (root.getAttribute("data-refresh") || "").split(" ").filter(Boolean);
  var running = false;
  var again = false;
  function refresh() {
    if (!ids.length) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    fetch(window.location.href, { headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var now = document.getElementById(id);
          var next = fresh.getElementById(id);
          if (now && next) now.innerHTML = next.innerHTML;
        });
      })
      .catch(function () {})
      .then(function () {
        running = false;
        if (again) {
          again = false;
          window.setTimeout(refresh, 1000);
        }
      });
  }
  return refresh;
}

function follow(root) {
  var url = root.getAttribute("data-events");
  if (!url || !window.EventSource) return;
  var refresh = refresher(root);
  var completed = {};
  var source = new EventSource(url);
  source.addEventListener("progress", function (message) {
    var data = JSON.parse(message.data);
    var selector = '[data-task="' + data.id + '"]';
    var containers = root.matches(selector) ? [root] : root.querySelectorAll(selector);
    Array.prototype.forEach.call(containers, function (c) {
      show(c, data);
    });
    // Finished operations add rows to the task page's results.
    if (completed[data.id] !== data.fields.completed || !data.active) {
      completed[data.id] = data.fields.completed;
      refresh();
    }
  });
  source.addEventListener("end", function () {
    source.close();
    refresh();
  });
}

document.querySelectorAll("[data-events]").forEach(follow);
