/* The keys page (templates/services/keys/key_list.html): Copy for a new key, shown this once.
   The page loads this module only when it shows one. Without scripts the button stays hidden
   and the key can still be selected and copied by hand. */
import { byId, copyText } from "./util.js";

var button = byId("new-key-copy");
if (button) {
  var state = byId("new-key-state");
  button.hidden = false;
  button.addEventListener("click", function () {
    copyText(byId("new-key").textContent, button).then(function (ok) {
      state.textContent = button.getAttribute(ok ? "data-copied" : "data-copy-failed");
    });
  });
}
