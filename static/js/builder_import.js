/* The builder's curl button and its dialog (templates/services/builder/import_dialog.html):
   a pasted curl command read by the API (POST /api/import/curl) into the form, with the API's
   notes on what it left out or changed. A command the API cannot read keeps the dialog open
   with its reason and the text as it was pasted. Nothing is sent. */
import { fill } from "./builder.js";
import { byId, format, readJson, refusalOf, sendJson } from "./util.js";

function start(dialog) {
  var config = readJson("keep-config"), text = config.text;
  var command = byId("curl-command"), error = byId("import-error");
  var button = byId("import-dialog-import"), state = byId("import-dialog-state");
  var refusalText = { loggedOut: text.loggedOut, httpError: text.importHttpError };

  function showError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  function item(list, content) {
    var li = document.createElement("li");
    li.append(content);
    list.append(li);
  }

  // What the import said: which service the command calls, and the notes.
  function report(imported, notes) {
    var service = byId("import-service"), list = byId("import-notes");
    service.replaceChildren();
    list.replaceChildren();
    if (imported.service && imported.service !== config.slug) {
      var link = document.createElement("a");
      link.href = config.builderUrl.replace(config.slugHole,
                                            encodeURIComponent(imported.service));
      link.id = "import-other-service";
      link.textContent = format(text.openOther, { slug: imported.service });
      service.append(format(text.otherService, { slug: imported.service }) + " ", link);
    } else if (!imported.service) {
      service.textContent = text.noService;
    }
    service.hidden = !service.childNodes.length;
    notes.concat(imported.notes || []).forEach(function (note) { item(list, note); });
    list.hidden = !list.childNodes.length;
    byId("import-result").hidden = service.hidden && list.hidden;
  }

  byId("import-curl").addEventListener("click", function () {
    showError("");
    dialog.showModal();
    command.focus();
  });
  byId("import-dialog-cancel").addEventListener("click", function () { dialog.close(); });

  byId("import-dialog-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (button.disabled || !command.value.trim()) return;
    button.disabled = true;
    showError("");
    state.textContent = text.importing;
    sendJson("POST", config.importUrl, { command: command.value }).then(function (answer) {
      if (answer.status !== 200 || !answer.data || answer.data.method === undefined) {
        showError(refusalOf(answer, refusalText));
        return;
      }
      var imported = answer.data, notes = [];
      if (!fill(imported)) notes.push(format(text.unknownMethod, { method: imported.method }));
      if (imported.body_base64) {
        notes.push(format(text.binaryBody, { size: atob(imported.body_base64).length }));
      }
      report(imported, notes);
      dialog.close();
    }, function () {
      showError(text.importUnreachable);
    }).then(function () {
      button.disabled = false;
      state.textContent = "";
    });
  });
}

var dialog = byId("import-dialog");
if (dialog && byId("builder-form")) start(dialog);
