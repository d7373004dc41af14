/* A service's page, its saved requests (templates/services/services/service_detail.html):
   Send (POST /api/requests/{id}/invoke, then the call's page) and Delete, after a confirm
   (DELETE /api/requests/{id}). A refusal is shown beside its row. */
import { byId, format, readJson, refusalOf, sendJson } from "./util.js";

function start(rows) {
  var config = readJson("saved-list-config"), text = config.text;

  function problem(row, message) {
    var box = row.querySelector(".saved-problem");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function send(row, button) {
    button.disabled = true;
    problem(row, "");
    var label = button.textContent;
    button.textContent = text.sending;
    sendJson("POST", button.getAttribute("data-url")).then(function (answer) {
      if (answer.status === 200 && answer.data && answer.data.id !== undefined) {
        window.location.assign(config.callsUrl + encodeURIComponent(answer.data.id) + "/");
        return;
      }
      problem(row, refusalOf(answer, text));
    }, function () {
      problem(row, text.unreachable);
    }).then(function () {
      button.disabled = false;
      button.textContent = label;
    });
  }

  function remove(row, button) {
    if (!window.confirm(format(text.confirmDelete, { name: button.getAttribute("data-name") }))) {
      return;
    }
    button.disabled = true;
    problem(row, "");
    sendJson("DELETE", button.getAttribute("data-url")).then(function (answer) {
      if (answer.status === 204 || answer.status === 404) {  // 404: someone deleted it already
        row.remove();
        if (!rows.querySelector("tr.saved-row")) {
          rows.closest("table").hidden = true;
          byId("saved-empty").hidden = false;
        }
        return;
      }
      button.disabled = false;
      problem(row, refusalOf(answer, text));
    }, function () {
      button.disabled = false;
      problem(row, text.unreachable);
    });
  }

  rows.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || button.disabled) return;
    var row = button.closest("tr.saved-row");
    if (button.classList.contains("saved-send")) send(row, button);
    if (button.classList.contains("saved-delete")) remove(row, button);
  });
}

var rows = byId("saved-rows");
if (rows) start(rows);
