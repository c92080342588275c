/* The portal's only script: asks before money-moving or key-changing buttons
   (data-confirm). Pages work without it. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-confirm]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        if (!window.confirm(this.dataset.confirm)) event.preventDefault();
      });
    }
  });
})();
