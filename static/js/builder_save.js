/* The builder's Save and Save as… (templates/services/builder/builder.html): the form's
   request kept as a saved request of the service. Save as… asks a name and a description
   (static/js/save_dialog.js) and creates one, then the page's URL becomes ?saved=<id>; Save
   changes the saved request open here, for those who may (else it is disabled), or does what
   Save as… does when none is open. A refusal is shown, and the form keeps everything. */
import { savedPayload } from "./builder.js";
import { ask } from "./save_dialog.js";
import { byId, format, readJson, refusalOf, sendJson } from "./util.js";

function start() {
  var config = readJson("keep-config"), text = config.text;
  var current = config.saved;  // {id, name, description, mayChange} or null
  var saveButton = byId("save"), message = byId("save-message");

  function say(kind, words) {
    message.className = "message " + kind;
    message.textContent = words;
    message.hidden = !words;
  }

  // The request as the form has it, or the form's own complaint (a header without a name).
  function request() {
    try {
      return { body: savedPayload() };
    } catch (error) {
      return { problem: error.message };
    }
  }

  // Sends and answers {problem} or {saved}: the saved request, as the API answers it.
  function send(method, url, body) {
    return sendJson(method, url, body).then(function (answer) {
      if ((answer.status === 200 || answer.status === 201) && answer.data && answer.data.id) {
        return { saved: answer.data };
      }
      return { problem: refusalOf(answer, text) };
    }, function () {
      return { problem: text.unreachable };
    });
  }

  function opened(saved) {
    current = { id: saved.id, name: saved.name, description: saved.description,
                mayChange: true };
    byId("saved-name").textContent = saved.name;
    var description = byId("saved-description");
    description.textContent = saved.description;
    description.hidden = !saved.description;
    // Who saved it and when was about the one open before.
    byId("saved-head").querySelectorAll(".muted").forEach(function (old) { old.remove(); });
    byId("saved-head").hidden = false;
    saveButton.disabled = false;
    saveButton.removeAttribute("title");
    history.replaceState(null, "", "?saved=" + encodeURIComponent(saved.id));
  }

  function saveAs() {
    say("", "");
    ask({ name: current ? current.name : "", description: current ? current.description : "" },
      function (described) {
        var wanted = request();
        if (wanted.problem) return Promise.resolve(wanted.problem);
        wanted.body.name = described.name;
        wanted.body.description = described.description;
        return send("POST", config.createUrl, wanted.body).then(function (result) {
          if (result.problem) return result.problem;
          opened(result.saved);
          say("success", format(text.savedAs, { name: result.saved.name }));
          return null;
        });
      });
  }

  saveButton.addEventListener("click", function () {
    if (!current) {
      saveAs();
      return;
    }
    var wanted = request();
    if (wanted.problem) {
      say("error", wanted.problem);
      return;
    }
    saveButton.disabled = true;
    say("", text.saving);
    send("PATCH", config.requestsUrl + current.id, wanted.body).then(function (result) {
      saveButton.disabled = false;
      if (result.problem) {
        say("error", result.problem);
      } else {
        say("success", format(text.saved, { name: result.saved.name }));
      }
    });
  });
  byId("save-as").addEventListener("click", saveAs);
}

if (byId("keep-config") && byId("builder-form")) start();
