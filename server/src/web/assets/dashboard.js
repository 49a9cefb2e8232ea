// scrape-tasks dashboard: the pages work without this script; it adds
// confirmation dialogs, "select all" rows, the prefecture picker's filter,
// and live progress pushed by the server (Server-Sent Events), without
// reloading the page.
"use strict";

// Buttons that change a task ask first (the button's own question, else
// its form's), and are not sent twice.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // Asked here, so the server need not ask again (Stop all).
  var confirmed = form.querySelector("input[name=confirmed]");
  if (question && confirmed) confirmed.value = "yes";
  if (form.method.toLowerCase() === "post") {
    // A disabled button is not sent: its choice goes in a field of its own.
    form.querySelectorAll("input[data-choice]").forEach(function (old) {
      old.remove();
    });
    if (button && button.name) {
      var choice = document.createElement("input");
      choice.type = "hidden";
      choice.name = button.name;
      choice.value = button.value;
      choice.setAttribute("data-choice", "");
      form.appendChild(choice);
    }
    form.querySelectorAll("button[type=submit]").forEach(function (b) {
      b.disabled = true;
    });
  }
});

// Back to a page from the history: its buttons work again.
window.addEventListener("pageshow", function (event) {
  if (!event.persisted) return;
  document.querySelectorAll("input[data-choice]").forEach(function (choice) {
    choice.remove();
  });
  document.querySelectorAll("button[type=submit]:disabled").forEach(function (b) {
    b.disabled = false;
  });
  bulk();
});

// The rows ticked for an action on several tasks: "select all" in the
// header, a count, and the buttons only when a row is ticked.
function bulk() {
  var form = document.getElementById("bulk");
  if (!form) return;
  var all = document.getElementById("select-all");
  var rows = Array.prototype.slice.call(document.querySelectorAll("input[name=task][form=bulk]"));
  var count = document.getElementById("selected-count");
  var ticked = rows.filter(function (r) {
    return r.checked;
  }).length;
  if (all) {
    all.hidden = false;
    all.checked = ticked > 0 && ticked === rows.length;
    all.indeterminate = ticked > 0 && ticked < rows.length;
  }
  if (count) count.textContent = ticked === 1 ? "1 task selected" : ticked + " tasks selected";
  form.querySelectorAll("button[type=submit]").forEach(function (b) {
    b.disabled = ticked === 0;
  });
}

document.addEventListener("change", function (event) {
  var box = event.target;
  if (box.id === "select-all") {
    document.querySelectorAll("input[name=task][form=bulk]").forEach(function (r) {
      r.checked = box.checked;
    });
  }
  if (box.id === "select-all" || (box.name === "task" && box.getAttribute("form") === "bulk")) bulk();
});

document.querySelectorAll("#bulk a.select-all").forEach(function (link) {
  link.hidden = true;
});
bulk();

// The prefecture picker: a region's box ticks all of its prefectures, and
// shows when only some are; the filter box hides what does not match.
function fold(text) {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/œ/g, "oe")
    .replace(/æ/g, "ae")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

function picker(root) {
  var filter = root.querySelector("[data-place-filter]");
  var input = root.querySelector("#place-filter");
  var picked = root.querySelector("#places-picked");
  function prefectures(region) {
    return root.querySelectorAll('input[name=prefectures][data-region="' + region + '"]:not(:disabled)');
  }
  function sync(group) {
    var region = group.querySelector("input[name=regions]");
    var boxes = Array.prototype.slice.call(prefectures(group.getAttribute("data-region")));
    var on = boxes.filter(function (b) {
      return b.checked;
    }).length;
    region.checked = boxes.length > 0 && on === boxes.length;
    region.indeterminate = on > 0 && on < boxes.length;
  }
  function count() {
    var on = root.querySelectorAll("input[name=prefectures]:checked").length;
    picked.textContent = on === 0 ? "none ticked: every prefecture" : on === 1 ? "1 prefecture ticked" : on + " prefectures ticked";
  }
  root.querySelectorAll("fieldset.region").forEach(function (group) {
    var region = group.querySelector("input[name=regions]");
    // A region sent with the form holds all of its prefectures.
    if (region.checked) {
      prefectures(group.getAttribute("data-region")).forEach(function (b) {
        b.checked = true;
      });
    }
    sync(group);
  });
  root.addEventListener("change", function (event) {
    var box = event.target;
    if (box.name === "regions") {
      prefectures(box.value).forEach(function (b) {
        b.checked = box.checked;
      });
      box.indeterminate = false;
    } else if (box.name === "prefectures") {
      sync(box.closest("fieldset.region"));
    }
    count();
  });
  function narrow() {
    var query = fold(input.value);
    root.querySelectorAll("fieldset.region").forEach(function (group) {
      var whole = query === "" || group.getAttribute("data-search").indexOf(query) >= 0;
      var shown = 0;
      group.querySelectorAll("li").forEach(function (item) {
        item.hidden = !(whole || item.getAttribute("data-search").indexOf(query) >= 0);
        if (!item.hidden) shown += 1;
      });
      group.hidden = shown === 0;
    });
  }
  // As one types, and when the box is emptied or left.
  input.addEventListener("input", narrow);
  input.addEventListener("change", narrow);
  // Enter in the filter box filters; it does not send the form.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") event.preventDefault();
  });
  filter.hidden = false;
  count();
}

document.querySelectorAll("fieldset.places").forEach(picker);

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
