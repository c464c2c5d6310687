// taskhub console: live refresh of a running JOBX task. The page's #live element names the
// fragment route that redraws it (data-src); while the task runs (data-running="1") the
// fragment is fetched again every second and replaces the element's content. The server
// says in X-Taskhub-Running whether to go on. No other script runs on the console.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) {
    return;
  }
  var state = document.getElementById("refresh-state");
  var every = 1000;

  function say(text) {
    if (state) {
      state.textContent = text ? " · " + text : "";
    }
  }

  function schedule() {
    if (live.getAttribute("data-running") === "1") {
      window.setTimeout(tick, every);
      say("live");
    } else {
      say("");
    }
  }

  function tick() {
    fetch(live.getAttribute("data-src"), {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    })
      .then(function (answer) {
        if (answer.status === 401) {
          window.location.reload(); // the login page, which comes back here
          return null;
        }
        if (!answer.ok) {
          say("refresh failed (" + answer.status + "), retrying");
          return null;
        }
        live.setAttribute("data-running", answer.headers.get("X-Taskhub-Running") || "0");
        return answer.text();
      })
      .then(function (html) {
        if (html !== null) {
          live.innerHTML = html;
        }
      })
      .catch(function () {
        say("server unreachable, retrying");
      })
      .then(schedule);
  }

  schedule();
})();
