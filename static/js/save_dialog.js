/* The dialog that asks a saved request's name and description
   (templates/services/includes/save_dialog.html), for the builder's Save as… and a call's
   "Save this request". It stays open, with what was typed, until the saving succeeds. */
import { byId } from "./util.js";

var dialog = byId("save-dialog");
var pending = null;  // the save() of the dialog open now

function showError(message) {
  var error = byId("save-dialog-error");
  error.textContent = message || "";
  error.hidden = !message;
}

if (dialog) {
  byId("save-dialog-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var save = pending, button = byId("save-dialog-save");
    if (!save || button.disabled) return;
    var name = byId("save-name"), description = byId("save-description");
    if (!name.value.trim()) {
      name.focus();
      return;
    }
    button.disabled = true;
    showError("");
    byId("save-dialog-state").textContent = dialog.getAttribute("data-saving") || "";
    save({ name: name.value.trim(), description: description.value }).then(function (problem) {
      button.disabled = false;
      byId("save-dialog-state").textContent = "";
      if (problem) {
        showError(problem);
      } else {
        pending = null;
        dialog.close();
      }
    });
  });
  byId("save-dialog-cancel").addEventListener("click", function () { dialog.close(); });
}

// Opens the dialog with initial {name, description}; save({name, description}) returns a
// promise of the problem to show in the dialog (a string), or of null once it is saved.
export function ask(initial, save) {
  byId("save-name").value = initial.name || "";
  byId("save-description").value = initial.description || "";
  showError("");
  pending = save;
  dialog.showModal();
  byId("save-name").focus();
}
