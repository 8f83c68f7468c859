// SPDX-License-Identifier: Apache-2.0
// console/web/console.js - the one script of the auditors' console: it
// starts the asciinema player on a session page with that session's
// recording, and makes each timeline entry move the player to its moment.
// Nothing here reads or writes text of the recording: the player alone
// renders it, in its own terminal.
"use strict";

(function () {
  var box = document.getElementById("player");
  if (!box || typeof AsciinemaPlayer === "undefined") {
    return;
  }
  var player = AsciinemaPlayer.create(box.getAttribute("data-cast"), box, {
    fit: "width",
    preload: true,
    idleTimeLimit: 2
  });
  window.jumpgatePlayer = player;
  var links = document.querySelectorAll("a.jump");
  for (var i = 0; i < links.length; i++) {
    links[i].addEventListener("click", function (ev) {
      ev.preventDefault();
      var t = parseFloat(this.getAttribute("data-t"));
      if (!isNaN(t)) {
        player.seek(t);
      }
    });
  }
})();
