/* A call's page, "Save this request" (templates/services/history/call_detail.html): the call's
   request, as history kept it, saved for the team under a name (static/js/save_dialog.js);
   then a link opens it in the builder. */
import { ask } from "./save_dialog.js";
import { byId, format, readJson, refusalOf, sendJson } from "./util.js";

function start(button) {
  var config = readJson("save-call-config"), text = config.text;
  var message = byId("save-call-message");

  function saved(kept) {
    var link = document.createElement("a");
    link.id = "saved-call-link";
    link.href = config.builderUrl + "?saved=" + encodeURIComponent(kept.id);
    link.textContent = text.open;
    message.replaceChildren(format(text.saved, { name: kept.name }) + " ", link);
    message.hidden = false;
  }

  button.addEventListener("click", function () {
    ask({ name: "", description: "" }, function (described) {
      var body = { name: described.name, description: described.description, call: config.call };
      return sendJson("POST", config.createUrl, body).then(function (answer) {
        if (answer.status === 201 && answer.data && answer.data.id) {
          saved(answer.data);
          return null;
        }
        return refusalOf(answer, text);
      }, function () {
        return text.unreachable;
      });
    });
  });
}

var button = byId("save-call");
if (button) start(button);
