// The workshop room: chat and questions with upvotes over /ws/workshops/{id}.
// Reconnects after a drop with ?after=<last seq seen>, so no stored message is missed.
(function () {
  "use strict";
  var root = document.getElementById("workshop-room");
  if (!root) {
    return;
  }
  var path = root.getAttribute("data-ws-path");
  var moderates = root.getAttribute("data-moderates") === "yes";
  var questionsBox = document.getElementById("questions");
  var chatBox = document.getElementById("chat");
  var lastSeq = null; // null until the first snapshot: then resume with ?after=
  var socket = null;
  var retry = 1000;
  var questions = {}; // id -> {id, text, by, votes, answered, voted}
  var here = {}; // user id -> open connections

  function field(name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function say(name, text) {
    var el = field(name);
    if (el) {
      el.textContent = text;
    }
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    say("error", "Not connected; trying again…");
    return false;
  }

  function showPresent() {
    var n = 0;
    Object.keys(here).forEach(function (uid) {
      if (here[uid] > 0) {
        n += 1;
      }
    });
    say("present", String(n));
  }

  function addChat(m) {
    var li = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = (m.from && m.from.name) || "Someone";
    li.appendChild(who);
    li.appendChild(document.createTextNode(" " + m.text));
    chatBox.appendChild(li);
    chatBox.scrollTop = chatBox.scrollHeight;
  }

  function renderQuestions() {
    var list = Object.keys(questions).map(function (k) {
      return questions[k];
    });
    list.sort(function (a, b) {
      return b.votes - a.votes || a.id - b.id;
    });
    questionsBox.textContent = "";
    list.forEach(function (q) {
      var li = document.createElement("li");
      li.setAttribute("data-question-id", String(q.id));
      if (q.answered) {
        li.className = "answered";
      }
      var text = document.createElement("p");
      text.textContent = q.text;
      li.appendChild(text);
      var meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent =
        ((q.by && q.by.name) || "Someone") + " · " + q.votes + (q.votes === 1 ? " vote" : " votes") +
        (q.answered ? " · answered" : "");
      li.appendChild(meta);
      var up = document.createElement("button");
      up.type = "button";
      up.className = "small secondary";
      up.textContent = q.voted ? "Voted" : "Upvote";
      up.disabled = !!q.voted;
      up.addEventListener("click", function () {
        if (send({ type: "vote", question_id: q.id })) {
          q.voted = true; // a second vote would be refused anyway
          renderQuestions();
        }
      });
      li.appendChild(up);
      if (moderates && !q.answered) {
        var done = document.createElement("button");
        done.type = "button";
        done.className = "small";
        done.textContent = "Mark answered";
        done.addEventListener("click", function () {
          send({ type: "answered", question_id: q.id });
        });
        li.appendChild(done);
      }
      questionsBox.appendChild(li);
    });
  }

  function onMessage(m) {
    if (typeof m.seq === "number" && !m.ephemeral) {
      lastSeq = m.seq;
    }
    switch (m.type) {
      case "snapshot":
        lastSeq = m.seq;
        chatBox.textContent = "";
        (m.chat || []).forEach(addChat);
        questions = {};
        (m.questions || []).forEach(function (q) {
          questions[q.id] = q;
        });
        renderQuestions();
        here = {};
        (m.present || []).forEach(function (p) {
          here[p.user_id] = 1;
        });
        showPresent();
        say("attendees", String(m.attendees));
        break;
      case "chat":
        addChat(m);
        break;
      case "question":
        questions[m.id] = {
          id: m.id, text: m.text, by: m.by, votes: m.votes || 0, answered: !!m.answered, voted: false
        };
        renderQuestions();
        break;
      case "vote":
        if (questions[m.question_id]) {
          // Counts only grow: keep the largest one seen, whatever order messages crossed in.
          questions[m.question_id].votes = Math.max(questions[m.question_id].votes, m.votes);
          renderQuestions();
        }
        break;
      case "answered":
        if (questions[m.question_id]) {
          questions[m.question_id].answered = true;
          renderQuestions();
        }
        break;
      case "presence":
        if (m.who && m.who.user_id !== undefined) {
          var uid = m.who.user_id;
          here[uid] = Math.max(0, (here[uid] || 0) + (m.state === "joined" ? 1 : -1));
          showPresent();
        }
        break;
      case "error":
        say("error", m.reason);
        break;
    }
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    if (lastSeq !== null) {
      url += "?after=" + lastSeq;
    }
    socket = new WebSocket(url);
    socket.addEventListener("open", function () {
      retry = 1000;
      say("connection", "Connected");
      say("error", "");
    });
    socket.addEventListener("message", function (event) {
      try {
        onMessage(JSON.parse(event.data));
      } catch (err) {
        // One unreadable message must not stop the room.
      }
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401) {
        say("connection", "Please log in again.");
        return;
      }
      if (event.code === 4403 || event.code === 4404) {
        say("connection", event.reason || "You cannot enter this room.");
        return;
      }
      say("connection", "Connection lost; reconnecting…");
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    });
  }

  document.getElementById("chat-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("chat-text");
    if (input.value.trim() && send({ type: "chat", text: input.value })) {
      input.value = "";
    }
  });
  document.getElementById("question-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("question-text");
    if (input.value.trim() && send({ type: "question", text: input.value })) {
      input.value = "";
    }
  });

  connect();
})();
