// SPDX-License-Identifier: Apache-2.0
// console/web/console.js - the one script of the auditors' console: it
// starts the asciinema player on a session page with that session's
// recording (at a search hit's moment when the page names one), or a live
// session's event stream, and makes each timeline entry move the player to
// its moment.
// Nothing here reads or writes text of the recording: the player alone
// renders it, in its own terminal.
"use strict";

(function () {
  var box = document.getElementById("player");
  if (!box || typeof AsciinemaPlayer === "undefined") {
    return;
  }
  // No idle time limit: the player's clock is the recording's, so that
  // the offsets of the timeline and of search hits are where they say.
  var opts = { fit: "width", preload: true };
  var live = box.getAttribute("data-live");
  // A live session: the server's event stream, played as it comes.
  var src = live ? { driver: "eventsource", url: live } : box.getAttribute("data-cast");
  var player = AsciinemaPlayer.create(src, box, live ? { fit: "width", autoPlay: true } : opts);
  var start = parseFloat(box.getAttribute("data-start"));
  if (!isNaN(start)) {
    player.seek(start); // a search hit's moment
  }
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
